"""Readable ids that two clones never mint alike.

A customer id is a slug of the name plus four random characters
(``acme-corp-7k2m``, ``li-na-x3qd``): readable, prefix-matchable, and unique
without any counter shared between clones. Records that belong to a customer
(deals, tickets, tasks) get a kind prefix and four random characters
(``opp-9x2m``), unique within that customer; their full reference is
``CUSTOMER/LOCAL`` (``acme-corp-7k2m/opp-9x2m``).
"""
from __future__ import annotations

import bisect
import os
import re
import secrets
import unicodedata

# Crockford's base32 without the letters people confuse (i, l, o, u).
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SUFFIX_LEN = 4
MAX_SLUG = 32

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "公司")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LOCAL_ID_RE = re.compile(r"^(opp|tkt|task)-[0-9a-z]{4,}$")


def random_suffix(length: int = SUFFIX_LEN) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def is_cjk(text: str) -> bool:
    """Whether ``text`` holds a Chinese character."""
    return bool(_CJK.search(text))


def _romanize(text: str) -> str:
    if not _CJK.search(text):
        return text
    from pypinyin import lazy_pinyin  # heavy import, only for CJK names

    for suffix in _LEGAL_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    # a run of non-CJK text ("IBM", " Huawei ") stays one item, not one item per letter
    return " ".join(lazy_pinyin(text, errors=lambda chars: [chars]))  # type: ignore[arg-type,return-value]


def slugify(name: str) -> str:
    """ASCII slug of a name; CJK becomes pinyin, accents are dropped."""
    text = unicodedata.normalize("NFKD", _romanize(name))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_SLUG:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:MAX_SLUG]
    return slug or "customer"


def new_customer_id(name: str) -> str:
    return f"{slugify(name)}-{random_suffix()}"


def new_local_id(prefix: str) -> str:
    return f"{prefix}-{random_suffix()}"


def shard_of(customer_id: str) -> str:
    """The folder between ``customers/`` and the customer: its first two characters."""
    return (customer_id[:2] if len(customer_id) >= 2 else customer_id + "_")


def is_valid_customer_id(value: str) -> bool:
    return bool(ID_RE.match(value)) and len(value) <= 80


def short_id(cid: str, neighbours: list[str]) -> str:
    """The shortest prefix of ``cid`` that no other id starts with: at least its first word and two characters,
    never ending in a hyphen (``shen-zhen-shi-ji-shi-xie-zuo-ke-945d`` -> ``shen``).

    ``neighbours`` are the sorted ids sharing its first two characters (its shard); ids elsewhere differ
    within two characters, so they never need more.
    """
    others = [n for n in neighbours if n != cid]
    pos = bisect.bisect_left(others, cid)
    common = max((len(os.path.commonprefix([cid, n])) for n in others[max(pos - 1, 0):pos + 1]), default=0)
    size = max(common + 1, len(cid.split("-", 1)[0]), 2)
    while size < len(cid) and cid[size - 1] == "-":
        size += 1
    return cid[:size]
