"""What one customer profile becomes in the index (``crmcli.store.index``): columns, contacts, search text."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from crmcli.domain.text import fold, phone_key

# Columns ``customer list`` filters on (``--tier A``), case-folded, besides the id and the name.
COLUMNS = ("kind", "industry", "size", "tier", "stage", "owner", "source", "created")
# The profile fields ``crm search`` looks in (besides ``extra``), of the customer and of each contact.
CUSTOMER_FIELDS = ("name", "id", "email", "phone", "website", "address", "industry", "tags")
CONTACT_FIELDS = ("name", "title", "email", "phone")


def flat(value: Any) -> str:
    return " ".join(str(value).split())


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    return fold(ch)


def folded(text: str) -> str:
    """``text`` folded character by character, as ``crm search`` compares it."""
    return text.lower() if text.isascii() else "".join(map(_fold_char, text))


def search_values(data: dict, cid: str) -> Iterator[str]:
    """Every text ``crm search`` looks at in a profile, as it compares it (``crmcli.analysis.search``)."""
    yield cid
    for key in CUSTOMER_FIELDS:
        value = data.get(key)
        if value not in (None, ""):
            yield ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    extra = data.get("extra")
    for value in extra.values() if isinstance(extra, dict) else ():
        if value not in (None, ""):
            yield str(value)
    contacts = data.get("contacts")
    for person in contacts if isinstance(contacts, list) else ():
        if isinstance(person, dict):
            yield from (str(person[k]) for k in CONTACT_FIELDS if person.get(k) not in (None, ""))


def phones(data: dict) -> str:
    found = [data.get("phone")]
    contacts = data.get("contacts")
    for person in contacts if isinstance(contacts, list) else []:
        if isinstance(person, dict):
            found.append(person.get("phone"))
    return "\n".join(phone_key(flat(p)) for p in found if p not in (None, ""))


def profile_json(data: dict) -> str | None:
    """The profile as JSON, or None when JSON cannot hold it exactly (then it is parsed from its file)."""
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text) == data else None
