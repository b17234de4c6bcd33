"""Errors that stop a command.

Every error a user can cause is a ``CrmError`` subclass with a one-line message
that says what went wrong, where, and what to do next. The CLI prints the
message and exits with ``exit_code``; nothing else in the program picks exit
codes. Problems found while *checking* records are values (``Problem``), not
exceptions, so one run reports all of them.
"""
from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Documented in README.md ("Exit codes"); tests pin them.
EXIT_OK = 0
EXIT_PROBLEMS = 1  # `crm check` found problems; a report found nothing to say is still 0
EXIT_USAGE = 2  # bad command line (Click's own code) or bad value in an option
EXIT_NOT_FOUND = 3  # unknown or ambiguous customer / record id
EXIT_INVALID = 4  # a value or a record fails validation
EXIT_NO_STORE = 5  # no records store found or store format not supported
EXIT_GIT = 6  # git failed or refused (identity unknown, conflict, nothing to undo)
EXIT_LOCKED = 7  # another crm command holds the lock for too long
EXIT_ABORTED = 8  # the user said no, or an editor session was abandoned
EXIT_PARTIAL = 9  # --skip-invalid left something out: the rest was done, a script should look


QUOTE_LIMIT = 80  # an error message shows at most about this many characters of a value


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of a value for a one-line message, cut to about ``limit`` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, (str, bytes, list, dict)) else ""
    return f"{text[:limit]}...{size}"


class CrmError(Exception):
    """An error the user can fix; its message is shown as one line."""

    exit_code = EXIT_INVALID


class UsageError(CrmError):
    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Input:
    """A named input of a library call (``at``, ``follow_up``), as an error message mentions it."""

    name: str
    metavar: str = ""  # shown after the option when the CLI words it: --follow-up WHEN

    def __str__(self) -> str:
        return self.name.replace("_", " ")


class InputError(CrmError):
    """A bad input value (exit 4, like any invalid value). The message mixes text and ``Input`` names; the CLI
    words the names as its options."""

    exit_code = EXIT_INVALID

    def __init__(self, *parts: str | Input) -> None:
        self.parts = parts
        super().__init__("".join(str(p) for p in parts))

    def worded(self, name: Callable[[Input], str]) -> str:
        return "".join(name(p) if isinstance(p, Input) else p for p in self.parts)


class MissingInput(InputError):
    """An input the call needs was not given (``task`` without ``follow_up``): misuse of the command line."""

    exit_code = EXIT_USAGE


class NotFound(CrmError):
    exit_code = EXIT_NOT_FOUND


class InvalidRecord(CrmError):
    exit_code = EXIT_INVALID


class FieldError(InvalidRecord):
    """A wrong value given for named fields, in words that do not know the command line.

    ``template`` writes each field as ``{field}`` and each value as ``{name}`` given in ``values``. The
    message names the fields plainly (``end 2026-01-01 is before start 2026-12-31``); the CLI, whose
    options gave the values, words it with ``as_options()`` (``--end 2026-01-01 is before --start ...``).
    """

    def __init__(self, template: str, **values: object) -> None:
        self.template, self.values = template, values
        super().__init__(self.worded({}))

    @property
    def fields(self) -> list[str]:
        names = (name for _, name, _, _ in string.Formatter().parse(self.template) if name)
        return [n for n in dict.fromkeys(names) if n not in self.values]

    def worded(self, names: Mapping[str, str]) -> str:
        """The message with each field called by ``names`` (default: its own name)."""
        return self.template.format(**{f: names.get(f, f) for f in self.fields}, **self.values)

    def as_options(self) -> InvalidRecord:
        """The same error naming the command-line options (``closing_before`` -> ``--closing-before``)."""
        return InvalidRecord(self.worded({f: "--" + f.replace("_", "-") for f in self.fields}))


class StoreError(CrmError):
    exit_code = EXIT_NO_STORE


class GitError(CrmError):
    exit_code = EXIT_GIT


class LockTimeout(CrmError):
    exit_code = EXIT_LOCKED


class Aborted(CrmError):
    exit_code = EXIT_ABORTED


class Partial(CrmError):
    """The command did its work but ``--skip-invalid`` left something out; raised after the output is written."""

    exit_code = EXIT_PARTIAL


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the records, located as ``path:line``."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class DateError(InvalidRecord, ValueError):
    """Any unreadable or impossible date/time input, so callers catch one type."""
