"""`crm key`: age keys for the encrypted sensitive fields."""
from __future__ import annotations

from pathlib import Path

import click

from crmcli import crypto
from crmcli.actions import keys as keys_lib
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, get_app, quiet_option, records_option, store_options
from crmcli.errors import StoreError
from crmcli.store.location import find_root


@click.group("key", context_settings=CONTEXT_SETTINGS)
def key() -> None:
    """Manage who can read the sensitive fields (age keys).

    crm.yaml lists sensitive_fields (like id_number, extra.iban) and the
    recipients (age public keys) they are encrypted to. Your identity (private
    key) stays outside the store: $CRM_IDENTITY, else ~/.config/crm/identity.txt.

    \b
    Examples:
      crm key gen                     # writes ~/.config/crm/identity.txt, prints the public key
      crm key add age1...             # re-encrypts every sensitive value, one commit
      crm key rm age1...
      crm key list
    """


@key.command("gen")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@quiet_option
def key_gen(path: Path | None) -> None:
    """Create an age identity file outside the store and print its public key.

    PATH defaults to $CRM_IDENTITY, else ~/.config/crm/identity.txt. Refuses a
    path inside the records store, and an existing file.

    \b
    Examples:
      crm key gen
      crm key gen ~/keys/crm.txt && export CRM_IDENTITY=~/keys/crm.txt
    """

    app = get_app()
    try:
        root: Path | None = find_root(app.records)
    except StoreError:
        root = None
    target = path or crypto.identity_path()
    public = crypto.generate_identity(target, root)
    echo(public)
    if not app.quiet:
        click.echo(f"Wrote the identity to {target}; give the public key above to crm key add", err=True)


@key.command("list")
@records_option
def key_list() -> None:
    """List the recipients (age public keys) of the sensitive fields.

    \b
    Examples:
      crm key list
    """

    for r in crypto.recipients(get_app().store().config):
        echo(r)


@key.command("add")
@click.argument("recipient")
@store_options
def key_add(recipient: str) -> None:
    """Add a recipient and re-encrypt every sensitive value to all recipients, in one commit.

    Needs your identity when sensitive values already exist.

    \b
    Examples:
      crm key add age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    """

    store = get_app().store()
    n = keys_lib.add_recipient(store, recipient)
    done(f"Added recipient {recipient.strip()}; re-encrypted {n:,} customers", store, recipient=recipient.strip(),
         reencrypted=n)


@key.command("rm")
@click.argument("recipient")
@store_options
def key_rm(recipient: str) -> None:
    """Remove a recipient and re-encrypt every sensitive value without it, in one commit.

    Old commits stay readable with the removed key: rotate the secrets
    themselves if that key was lost.

    \b
    Examples:
      crm key rm age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    """

    store = get_app().store()
    n = keys_lib.remove_recipient(store, recipient)
    done(f"Removed recipient {recipient.strip()}; re-encrypted {n:,} customers", store,
         recipient=recipient.strip(), reencrypted=n)
