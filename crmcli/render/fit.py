"""Fitting text to the terminal: display width (CJK counts double), truncation with "…", wrapping, colour policy.

Width policy (``screen_width``): ``COLUMNS`` when set, else the terminal's width when the stream is a terminal,
else ``None``: a pipe without ``COLUMNS`` gets today's full lines, so scripts see no change. Machine formats
(``--format json|csv|yaml``) are never fitted.

Colour policy (``use_color``): ``--color always|never`` wins; else ``NO_COLOR`` (non-empty) turns colour off,
``FORCE_COLOR`` (non-empty) turns it on (for ``less -R``); else colour only on a terminal whose TERM is not dumb.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from typing import TextIO

ELLIPSIS = "…"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
_color_mode = "auto"


def set_color_mode(mode: str) -> None:
    """``always``, ``never`` or ``auto`` (the ``--color`` option)."""
    global _color_mode
    _color_mode = mode


def use_color(stream: TextIO) -> bool:
    if _color_mode in ("always", "never"):
        return _color_mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def screen_width(stream: TextIO | None) -> int | None:
    """Columns to fit, or None when the output goes to a pipe or file and COLUMNS is not set."""
    raw = os.environ.get("COLUMNS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return max(20, int(raw))
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        import shutil

        return max(20, shutil.get_terminal_size().columns)
    return None


def char_width(ch: str) -> int:
    from wcwidth import wcwidth  # 30 ms of tables: only once text is not plain ASCII (crm log never pays)

    if ch.isascii():
        return 1 if ch.isprintable() else 0
    w = wcwidth(ch)
    if w < 0:
        return 0 if unicodedata.category(ch) in ("Cc", "Cf") else 1
    return w


def dwidth(text: str) -> int:
    """Display width of one line (colour codes count nothing, wide characters two)."""
    plain = ANSI.sub("", text)
    if plain.isascii():
        return len(plain)
    return sum(char_width(ch) for ch in plain)


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns with "…" at the end; never splits a wide character.

    Colour codes in ``text`` are kept (they take no columns), and reset after the cut.
    """
    if dwidth(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used, coloured = [], 0, False
    for part in re.split(f"({ANSI.pattern})", text):
        if ANSI.fullmatch(part):
            out.append(part)
            coloured = True
            continue
        for ch in part:
            w = char_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        else:
            continue
        break
    return "".join(out).rstrip() + ELLIPSIS + ("\x1b[0m" if coloured else "")


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns: break at spaces where possible, else between characters."""
    text = ANSI.sub("", text)
    width = max(width, 2)
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        line, used = "", 0
        for word in re.findall(r"\S+\s*|\s+", para):
            ww = dwidth(word.rstrip())
            if used + ww <= width:
                line += word
                used += dwidth(word)
                continue
            if line.strip() and ww <= width:
                lines.append(line.rstrip())
                line, used = word, dwidth(word)
                continue
            for ch in word:
                cw = char_width(ch)
                if used + cw > width:
                    lines.append(line.rstrip())
                    line, used = "", 0
                    if ch.isspace():
                        continue
                line += ch
                used += cw
        lines.append(line.rstrip())
    return lines


def fit_line(text: str, width: int | None) -> str:
    """One line cut to the width (colour codes dropped only when the line had to be cut)."""
    if width is None or dwidth(text) <= width:
        return text
    return truncate(text, width)


def fit_lines(lines: Sequence[str], width: int | None) -> list[str]:
    return [fit_line(line, width) for line in lines]


def column_widths(natural: Sequence[int], floors: Sequence[int], width: int, gap: int = 2) -> list[int] | None:
    """Widths that fit ``width`` by capping the widest columns first; None when even the floors do not fit."""
    room = width - gap * (len(natural) - 1)
    if sum(natural) <= room:
        return list(natural)
    if sum(min(n, f) for n, f in zip(natural, floors, strict=True)) > room:
        return None
    lo, hi = 0, max(natural)
    while lo < hi:  # the largest cap that fits
        mid = (lo + hi + 1) // 2
        if sum(min(n, max(mid, f)) for n, f in zip(natural, floors, strict=True)) <= room:
            lo = mid
        else:
            hi = mid - 1
    widths = [min(n, max(lo, f)) for n, f in zip(natural, floors, strict=True)]
    spare = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: -natural[i]):  # hand out what is left, widest first
        if spare <= 0:
            break
        more = min(spare, natural[i] - widths[i])
        widths[i] += more
        spare -= more
    return widths
