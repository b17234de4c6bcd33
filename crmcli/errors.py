"""Errors that stop a command.

Every error a user can cause is a ``CrmError`` subclass with a one-line message
that says what went wrong, where, and what to do next. The CLI prints the
message and exits with ``exit_code``; nothing else in the program picks exit
codes. Problems found while *checking* records are values (``Problem``), not
exceptions, so one run reports all of them.
"""
from __future__ import annotations

from collections.abc import Callable
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


class InputError(UsageError):
    """A bad input value. The message mixes text and ``Input`` names; the CLI words the names as its options."""

    def __init__(self, *parts: str | Input) -> None:
        self.parts = parts
        super().__init__("".join(str(p) for p in parts))

    def worded(self, name: Callable[[Input], str]) -> str:
        return "".join(name(p) if isinstance(p, Input) else p for p in self.parts)


class NotFound(CrmError):
    exit_code = EXIT_NOT_FOUND


class InvalidRecord(CrmError):
    exit_code = EXIT_INVALID


class StoreError(CrmError):
    exit_code = EXIT_NO_STORE


class GitError(CrmError):
    exit_code = EXIT_GIT


class LockTimeout(CrmError):
    exit_code = EXIT_LOCKED


class Aborted(CrmError):
    exit_code = EXIT_ABORTED


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the records, located as ``path:line``."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"
