"""`--help` that fits the screen by display width (a Chinese character counts two columns).

Click wraps help prose by characters and leaves example blocks and long option choices as they are; at 80
columns some lines ran to 111. Every line wider than the help's width is fitted here: an example command
breaks between words with a shell line continuation (`` \\``), so it still pastes, its ``# comment`` goes on
the line above; prose wraps by display width under its own indent; ``[a|b|c]`` choices break after a ``|``.
"""
from __future__ import annotations

import re

import click

from crmcli.render.fit import dwidth, wrap

_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|\S)+""")  # a shell word, quotes kept whole


def _example(indent: str, body: str, width: int) -> list[str]:
    out: list[str] = []
    command, sep, comment = body.partition("  # ")
    if sep:
        out += [f"{indent}# {line}" for line in wrap(comment.strip(), max(width - len(indent) - 2, 20))]
        body = command.rstrip()
    line, more = indent, indent + "    "
    for word in _TOKEN.findall(body):
        if line.strip() and dwidth(line) + 1 + dwidth(word) + 2 > width:
            out.append(line + " \\")
            line = more
        line = f"{line} {word}" if line.strip() else line + word
    return [*out, line]


def _choices(indent: str, body: str, width: int) -> list[str]:
    out, line = [], indent
    for part in re.findall(r"[^|]+\|?", body):
        if line.strip() and dwidth(line + part) > width:
            out.append(line)
            line = indent + "  "
        line += part
    return [*out, line]


def fit_help(text: str, width: int) -> str:
    """``text`` (a help page) with no line wider than ``width`` display columns."""
    out: list[str] = []
    for line in text.split("\n"):
        if dwidth(line) <= width:
            out.append(line)
            continue
        body = line.lstrip()
        indent = line[:len(line) - len(body)]
        if re.match(r"(crm |\S+ \| crm )", body):
            out += _example(indent, body, width)
        elif re.match(r"-.*\[[^\]]*\|", body) and " " not in body.split("[", 1)[1]:
            out += _choices(indent, body, width)
        else:
            out += [indent + part for part in wrap(body, max(width - len(indent), 20))]
    return "\n".join(out)


class HelpFormatter(click.HelpFormatter):
    """Click's formatter, its page fitted to its width by display width (``fit_help``)."""

    def getvalue(self) -> str:
        return fit_help(super().getvalue(), self.width or 78)
