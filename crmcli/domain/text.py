"""Text a user typed: checked before it is written, and cut to one line when it is described."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from crmcli.errors import InvalidRecord

# characters no text field may hold (tab and newline allowed), and none a one-line field (a name, a title) may hold
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def checked_text(value: Any, what: str, *, required: bool = True, one_line: bool = False) -> str | None:
    """Checked text (titles and names are one line of at most 200 characters); None when empty."""
    text = str(value).replace("\r\n", "\n").strip() if value is not None else ""
    if not text:
        if required:
            raise InvalidRecord(f"{what} is empty; {'give one' if one_line else 'write some text'}")
        return None
    if (LINE_CONTROL if one_line else TEXT_CONTROL).search(text):
        raise InvalidRecord(f"{what} {text[:40]!r} must be {'one line ' if one_line else ''}without control "
                            "characters")
    if one_line and len(text) > 200:
        raise InvalidRecord(f"{what} is {len(text)} characters long; the limit is 200")
    return text


def first_line(text: Any, width: int | None = None, *, mark: str = "…") -> str:
    """The first line of ``text``, cut to ``width`` characters ending in ``mark`` when longer."""
    lines = str(text or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first if not width or len(first) <= width else first[: width - len(mark)] + mark


def check_text(value: Any, what: str, *, limit: int = 200) -> str:
    """Text a deal or order field holds (a title, a reason, a product): not empty, no control characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidRecord(f"{what} is empty; give some text")
    if TEXT_CONTROL.search(text):
        raise InvalidRecord(f"{what} {text!r} contains control characters; remove them")
    if len(text) > limit:
        raise InvalidRecord(f"{what} is {len(text)} characters long; the limit is {limit}")
    return text


def fold(text: str) -> str:
    """``text`` for matching: NFKC-normalized (full-width forms become plain) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded character by character, and for each folded character its original index."""
    pieces: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        pieces.append(piece)
        where += [i] * len(piece)
    return "".join(pieces), where


def phone_key(text: str) -> str:
    """Digits only, without a leading +86 / 0086 / +1 or trunk 0."""
    s = re.sub(r"[^\d+]", "", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086", "+1"):
        if s.startswith(prefix):
            s = s[len(prefix):]
            break
    s = s.replace("+", "")
    return s[1:] if s.startswith("0") else s
