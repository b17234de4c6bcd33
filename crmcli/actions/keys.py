"""Managing who can read the sensitive fields: adding or removing an age recipient re-encrypts in one commit."""
from __future__ import annotations

import copy
from collections.abc import Iterator

from crmcli import yamlio
from crmcli.config import CONFIG_NAME
from crmcli.crypto import (
    decrypt,
    encrypt,
    has_sealed,
    identity_path,
    is_sealed,
    load_identities,
    parse_recipient,
    recipients,
    seal_customer,
    sensitive_fields,
    sensitive_slots,
)
from crmcli.domain.customer import Customer
from crmcli.errors import StoreError, UsageError
from crmcli.store.store import Store


def rekey(store: Store, new_recipients: list[str], message: str, action: str) -> int:
    """Write ``new_recipients`` to crm.yaml and re-encrypt every sensitive value to them, in one commit.

    Returns the number of customers re-encrypted. Needs an identity that can read every sealed value.
    """
    if not new_recipients and any(True for _ in _sealed_customers(store)):
        raise UsageError("that would leave no recipient for the encrypted fields; add another key first")
    identities = load_identities(store.root)
    fields = sensitive_fields(store.config)
    changed: list[tuple[str, dict]] = []
    for customer in store.iter_customers():
        data = customer.data
        slots = sensitive_slots(data, fields)
        sealed_elsewhere = [(c, k) for c in [data] + ([data["extra"]] if isinstance(data.get("extra"), dict) else [])
                            for k, v in c.items() if is_sealed(v)]
        if not slots and not sealed_elsewhere:
            continue
        out = copy.deepcopy(data)
        for container in [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else []):
            for key, value in list(container.items()):
                if is_sealed(value):
                    if not identities:
                        raise StoreError(f"no identity file at {identity_path()}: re-encrypting needs a key that "
                                         "can read the sensitive fields; set CRM_IDENTITY")
                    container[key] = decrypt(value, identities, f"{customer.id} {key}")
        if new_recipients:
            out = seal_customer(store.config, out, keys=new_recipients)
            # values sealed under a field no longer listed as sensitive stay sealed, to the new keys
            for container in [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else []):
                for key, value in list(container.items()):
                    if not is_sealed(value) and _was_sealed(data, container is out, key):
                        container[key] = encrypt(str(value), new_recipients)
        changed.append((customer.id, out))
    text = store.read_text(store.root / CONFIG_NAME)
    config = yamlio.loads(text, CONFIG_NAME) or {}
    config["recipients"] = list(new_recipients)
    with store.transaction(message, action=action) as tx:
        tx.write(store.root / CONFIG_NAME, yamlio.dumps(config))
        for cid, out in changed:
            tx.write(store.customer_file(cid), yamlio.dumps(_ordered(out)))
    return len(changed)


def _was_sealed(data: dict, top: bool, key: str) -> bool:
    container = data if top else data.get("extra")
    return isinstance(container, dict) and is_sealed(container.get(key))


def _ordered(data: dict) -> dict:
    return Customer("", data).to_dict()


def _sealed_customers(store: Store) -> Iterator[str]:
    return (c.id for c in store.iter_customers() if has_sealed(c.data))


def add_recipient(store: Store, recipient: str) -> int:
    recipient = recipient.strip()
    parse_recipient(recipient)
    current = recipients(store.config)
    if recipient in current:
        raise UsageError(f"{recipient} is already a recipient (crm key list)")
    return rekey(store, current + [recipient], f"Add recipient {recipient} for sensitive fields", "key.add")


def remove_recipient(store: Store, recipient: str) -> int:
    recipient = recipient.strip()
    current = recipients(store.config)
    if recipient not in current:
        raise UsageError(f"{recipient} is not a recipient (crm key list)")
    return rekey(store, [r for r in current if r != recipient],
                 f"Remove recipient {recipient} for sensitive fields", "key.rm")
