"""vCard 2.1/3.0/4.0 in, 3.0 out: FN, N, ORG, TITLE, EMAIL, TEL; escaping, folding at 75 octets, UTF-8, CRLF.

Reads what phones and mail programs export: Android's 2.1 cards with quoted-printable values whose soft line
breaks (a line ending in ``=``) continue on the next line, a CHARSET parameter, bare 2.1 parameters
(``TEL;CELL;PREF``), iOS's ``item1.EMAIL`` groups, Outlook's ``N;LANGUAGE=en-us``, and folded photos.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from crmcli.errors import InvalidRecord
from crmcli.io.csvio import Table, decode

HEADERS = ["name", "first_name", "last_name", "customer", "title", "email", "phone"]
_CJK = re.compile(r"[\u3400-\u9fff]")


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "")
            .replace(",", "\\,").replace(";", "\\;"))


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def fold(line: str, limit: int = 75) -> str:
    """Split a content line into lines of at most ``limit`` octets (never inside a UTF-8 character)."""
    raw = line.encode("utf-8")
    if len(raw) <= limit:
        return line + "\r\n"
    parts: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        room = limit if not parts else limit - 1  # continuation lines start with a space
        if size + n > room:
            parts.append(current)
            current, size = "", 0
        current += ch
        size += n
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


def _split(value: str, sep: str) -> list[str]:
    """Split on ``sep`` not preceded by a backslash."""
    return [unescape(p) for p in re.split(rf"(?<!\\){re.escape(sep)}", value)]


def _unfold(text: str) -> list[str]:
    """Content lines: folded lines (a leading space or tab) joined, and a quoted-printable value's soft line
    breaks (``=`` at the end of a line) joined with the line after, whatever that line starts with."""
    lines: list[str] = []
    soft = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if soft and lines:
            lines[-1] = lines[-1][:-1] + raw
        elif raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
        else:
            soft = False
            continue
        last = lines[-1]
        soft = last.endswith("=") and "QUOTED-PRINTABLE" in last.split(":", 1)[0].upper()
    return lines


def _charset(head: str) -> str:
    for param in head.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().upper() == "CHARSET" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _quoted_printable(value: str, head: str) -> str:
    import quopri

    raw = quopri.decodestring(value.encode("ascii", "replace"))
    try:
        return raw.decode(_charset(head))
    except (LookupError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def parse(text: str) -> list[dict]:
    """Cards as dicts: name, first_name, last_name, customer (ORG), title, email, phone."""
    cards: list[dict] = []
    card: dict | None = None
    for line in _unfold(text):
        if ":" not in line:
            continue
        head, value = line.split(":", 1)
        name = head.split(";")[0].split(".")[-1].upper()  # item1.EMAIL -> EMAIL
        params = head.upper()
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            card = {}
            continue
        if card is None:
            continue
        if name == "END":
            cards.append(card)
            card = None
            continue
        if "QUOTED-PRINTABLE" in params:
            value = _quoted_printable(value, head)
        if name == "FN":
            card["name"] = unescape(value).strip()
        elif name == "N":
            parts = _split(value, ";") + ["", ""]
            card["last_name"], card["first_name"] = parts[0].strip(), parts[1].strip()
        elif name == "ORG":
            card["customer"] = _split(value, ";")[0].strip()
        elif name == "TITLE":
            card["title"] = unescape(value).strip()
        elif name == "EMAIL" and "email" not in card:
            card["email"] = unescape(value).strip().removeprefix("mailto:")
        elif name == "TEL" and "phone" not in card:
            card["phone"] = unescape(value).strip().removeprefix("tel:")
    return cards


def read_table(path: Path, encoding: str | None = None) -> Table:
    text, used = decode(path.read_bytes(), encoding, path.name)
    cards = parse(text)
    if not cards:
        raise InvalidRecord(f"{path.name}: no vCards found (BEGIN:VCARD ... END:VCARD)")
    table = Table(path.name, list(HEADERS), encoding=used)
    table.rows = [(i + 1, [c.get(h) for h in HEADERS]) for i, c in enumerate(cards)]
    return table


def _n(name: str) -> str:
    """N (family;given;;;) from a display name: CJK names are family name first."""
    name = name.strip()
    if _CJK.match(name) and " " not in name and 2 <= len(name) <= 4:
        return f"{escape(name[0])};{escape(name[1:])};;;"
    parts = name.rsplit(" ", 1)
    if len(parts) == 2:
        return f"{escape(parts[1])};{escape(parts[0])};;;"
    return f"{escape(name)};;;;"


def card(name: str, *, org: str | None = None, title: str | None = None, email: str | None = None,
         phone: str | None = None, uid: str | None = None) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{escape(name)}", f"N:{_n(name)}"]
    if org:
        lines.append(f"ORG:{escape(org)}")
    if title:
        lines.append(f"TITLE:{escape(title)}")
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(email)}")
    if phone:
        lines.append(f"TEL;TYPE=VOICE:{escape(phone)}")
    if uid:
        lines.append(f"UID:{escape(uid)}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def dump(contacts: Iterable[dict]) -> str:
    """Rows with name, org, title, email, phone, uid."""
    return "".join(card(str(c["name"]), org=c.get("org"), title=c.get("title"), email=c.get("email"),
                        phone=c.get("phone"), uid=c.get("uid")) for c in contacts)
