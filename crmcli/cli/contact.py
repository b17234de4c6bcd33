"""`crm contact`: the people at a customer."""
from __future__ import annotations

import click

from crmcli.actions import customer as lib
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    get_app,
    store_options,
)
from crmcli.domain.customer import check_name
from crmcli.errors import InvalidRecord


@click.group(context_settings=CONTEXT_SETTINGS)
def contact() -> None:
    """Add contacts to customers.

    \b
    Examples:
      crm contact add acme "Jane Doe" --title CTO --email jane@acme.example --primary
    """


@contact.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("name")
@click.option("--title")
@click.option("--email")
@click.option("--phone")
@click.option("--primary", is_flag=True, help="Make this the primary contact.")
@store_options
def contact_add(customer_ref: str, name: str, title: str | None, email: str | None, phone: str | None,
                primary: bool) -> None:
    """Add a contact person to a customer.

    \b
    Examples:
      crm contact add acme "Jane Doe" --title CTO --email jane@acme.example --primary
      crm contact add 基石 李娜 --email li.na@example.cn --phone "138 0013 8000"
    """

    message = check_name(name, "contact name")
    if message:
        raise InvalidRecord(message)
    store = get_app().store()
    person = lib.make_contact(name, title=title, email=email, phone=phone, primary=primary)
    updated = lib.add_contact(store, customer_ref, person)
    done(f"Added contact {person.label()} to {updated.name} ({updated.id})", store, customer=updated.id,
         contact=person.label())
