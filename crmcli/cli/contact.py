"""`crm contact`: the people at a customer."""
from __future__ import annotations

import click

from crmcli.actions import contact as people
from crmcli.actions import customer as lib
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    confirm,
    done,
    get_app,
    say,
    store_options,
)
from crmcli.domain.customer import check_name
from crmcli.errors import InvalidRecord


@click.group(context_settings=CONTEXT_SETTINGS)
def contact() -> None:
    """Add, change and remove the contact people of customers.

    CONTACT is a contact's name, email, or the start of the name.

    \b
    Examples:
      crm contact add acme "Jane Doe" --title CTO --email jane@acme.example --primary
      crm contact edit acme jane --phone "+1 555 0101" --role "VP Engineering"
      crm contact rm acme jane@acme.example --yes
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


@contact.command("edit")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("who", metavar="CONTACT")
@click.option("--name", help="A new name.")
@click.option("--title", "--role", "title", help="Title or role (FIELD '' clears any of these).")
@click.option("--email")
@click.option("--phone")
@click.option("--birthday", help="YYYY-MM-DD.")
@click.option("--note")
@click.option("--primary", is_flag=True, help="Make this the primary contact.")
@store_options
def contact_edit(customer_ref: str, who: str, name: str | None, title: str | None, email: str | None,
                 phone: str | None, birthday: str | None, note: str | None, primary: bool) -> None:
    """Change a contact's phone, email, title/role, name, birthday or note; '' clears a field.

    CONTACT is the contact's name, email or the start of the name.

    \b
    Examples:
      crm contact edit acme "Jane Doe" --phone "+1 555 0101"
      crm contact edit acme jane@acme.example --role "VP Engineering" --email jane.doe@acme.example
      crm contact edit 基石 李娜 --phone "139 0013 9000" --primary
      crm contact edit acme jane --title ''          # clear the title
    """
    changes = {k: v for k, v in {"name": name, "title": title, "email": email, "phone": phone,
                                 "birthday": birthday, "note": note}.items() if v is not None}
    store = get_app().store()
    out = people.edit_contact(store, customer_ref, who, changes, primary=primary)
    if not out.changed:
        done("No change.", customer=out.customer.id, contact=out.contact.get("name"), changed=[])
        return
    for line in out.lines:
        say(line)
    done(f"Updated contact {out.contact['name']} of {out.customer.name} ({out.customer.id})", store,
         customer=out.customer.id, contact=out.contact.get("name"),
         changed=sorted([*changes, *(["primary"] if primary else [])]))


@contact.command("rm")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("who", metavar="CONTACT")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@store_options
def contact_rm(customer_ref: str, who: str, yes: bool) -> None:
    """Remove a contact person from a customer (one commit; crm undo brings it back).

    \b
    Examples:
      crm contact rm acme "Jane Doe" --yes
      crm contact rm acme jane@acme.example -y
    """
    store = get_app().store()
    cid = store.resolve(customer_ref)
    if not yes:
        from crmcli.domain.interactions import match_contact

        person = match_contact(store.load_customer(cid), who)
        confirm(f"Remove contact {person} from {cid}?", yes)
    out = people.remove_contact(store, cid, who)
    done(f"Removed contact {out.contact['name']} from {out.customer.name} ({out.customer.id})", store,
         customer=out.customer.id, contact=out.contact.get("name"), removed=True)
