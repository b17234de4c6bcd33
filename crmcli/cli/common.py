"""Options and helpers shared by every command."""
from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from crmcli.cli.helptext import HelpFormatter
from crmcli.errors import Aborted, InvalidRecord, Partial
from crmcli.render.tables import FORMATS
from crmcli.store.location import open_store

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
click.Context.formatter_class = HelpFormatter  # every --help fits the screen by display width


@dataclass
class App:
    """What the root group parsed; opens the store on first use."""

    records: str | None = None
    author: str | None = None
    no_commit: bool = False
    debug: bool = False
    quiet: bool = False
    fmt: str = "text"  # a writer's --format: text (lines for people) or json (one document on stdout)
    result: dict[str, Any] = field(default_factory=dict)
    _store: Any = field(default=None, repr=False)

    def store(self, *, guard: bool = True) -> Any:
        if self._store is None:

            self._store = open_store(self.records, author=self.author,
                                     autocommit=False if self.no_commit else None, guard=guard)
            from crmcli.render.labels import set_store_language

            set_store_language(self._store.config.get("language"))
        return self._store


def get_app() -> App:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, App):
        root.obj = App()
    return root.obj


def records_option(fn: Callable) -> Callable:
    """``--records``, accepted after the command too; the only store option of a read-only command."""

    @click.option("--records", "records_", metavar="DIR", default=None, expose_value=True,
                  help="Records store to use (default: $CRM_RECORDS, else the nearest crm.yaml upwards).")
    @functools.wraps(fn)
    def wrapper(*args: Any, records_: str | None, **kwargs: Any) -> Any:
        if records_:
            get_app().records = records_
        return fn(*args, **kwargs)

    return wrapper


def quiet_option(fn: Callable) -> Callable:
    """``-q/--quiet``: nothing on success but the data asked for; errors still on stderr with a non-zero exit."""

    @click.option("--quiet", "-q", "quiet_", is_flag=True, default=False,
                  help="Say nothing on success (for cron); errors still go to stderr with a non-zero exit.")
    @functools.wraps(fn)
    def wrapper(*args: Any, quiet_: bool, **kwargs: Any) -> Any:
        if quiet_:
            get_app().quiet = True
        return fn(*args, **kwargs)

    return wrapper


def store_options(fn: Callable | None = None, *, result_format: bool = True) -> Any:
    """``--records``, ``--author``, ``--no-commit`` and ``-q``, accepted after the command too: for commands that
    write; and ``--format text|json`` (one JSON document of what changed) unless the command has its own."""
    if fn is None:
        return functools.partial(store_options, result_format=result_format)

    @click.option("--author", "author_", metavar="'NAME <EMAIL>'", default=None,
                  help="Who is acting (default: $CRM_AUTHOR, else the git user).")
    @click.option("--no-commit", "no_commit_", is_flag=True, default=False,
                  help="Change the files but make no git commit.")
    @functools.wraps(fn)
    def wrapper(*args: Any, author_: str | None, no_commit_: bool, **kwargs: Any) -> Any:
        app = get_app()
        if author_:
            app.author = author_
        if no_commit_:
            app.no_commit = True
        fmt = kwargs.pop("result_fmt_", None)
        if fmt == "json":
            app.fmt = "json"
        try:
            value = fn(*args, **kwargs)
        except Partial:
            print_result()  # the rest was done: say what, then exit 9
            raise
        print_result()
        return value

    if result_format:
        wrapper = click.option("--format", "-f", "result_fmt_", type=click.Choice(["text", "json"]),
                               default="text", show_default=True,
                               help="json: one JSON document on stdout of what was created or changed "
                                    "(ids, counts, commit) instead of the lines for people.")(wrapper)
    return records_option(quiet_option(wrapper))


def json_mode() -> bool:
    return get_app().fmt == "json"


def note_result(**data: Any) -> None:
    """Add facts (ids, counts) to the JSON document a writer prints with --format json."""
    get_app().result.update({k: v for k, v in data.items() if v is not None})


def print_result() -> None:
    """With --format json: the one document of what was done, on stdout."""
    app = get_app()
    if app.fmt != "json" or app.result.get("_printed"):
        return
    import json

    store = app._store
    commit = getattr(store, "last_commit", None)
    doc = {"ok": True, "commit": commit, **app.result}
    app.result["_printed"] = True
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2,
                          default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o)))


def format_option(choices: Sequence[str] = FORMATS, default: str = "table") -> Callable:
    return click.option("--format", "-f", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help="Output format.")


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    # colour codes are only ever in ``text`` when crmcli.render.fit.use_color said so: keep them
    click.echo(text, err=err, nl=nl, color=True)


def say(text: str) -> None:
    """A line on stdout that confirms what was done (``crm log``'s logged line): not with -q or --format json."""
    app = get_app()
    if not app.quiet and app.fmt != "json":
        click.echo(text)


def result_line(text: str) -> None:
    """The result a script reads from a writer's text output (a new id): not with --format json."""
    if get_app().fmt != "json":
        click.echo(text)


def summary(message: str, store: Any = None) -> None:
    """A bulk command's closing summary (``Exported ...``, ``Imported ...``): on stderr only on a terminal
    (so cron mails nothing on success), never with -q; in --format json its words go into the document."""
    app = get_app()
    if app.fmt == "json":
        app.result.setdefault("message", message)
        return
    if app.quiet or not sys.stderr.isatty():
        return
    done(message, store)


def done(message: str, store: Any = None, **data: Any) -> None:
    """One line on stderr saying what changed and where it was committed (not with -q); with --format json, the
    message and ``data`` (ids, counts) go into the JSON document instead."""
    app = get_app()
    if app.fmt == "json":
        app.result.setdefault("message", message)
        note_result(**data)
        return
    if app.quiet:
        return
    suffix = ""
    commit = getattr(store, "last_commit", None)
    if commit:
        suffix = f" [{commit[:8]}]"
    elif store is not None and (not store.autocommit or store.top is None):
        suffix = " (not committed)"
    click.echo(message + suffix, err=True)


def confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise Aborted(f"{question} Pass --yes to confirm when not on a terminal.")  # declined: nobody to ask
    if not click.confirm(question, default=False, err=True):
        raise Aborted("nothing changed")


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def skip_invalid_option(fn: Callable) -> Callable:
    """``--skip-invalid``: go on without the customers whose files cannot be read."""
    return click.option("--skip-invalid", "skip_invalid", is_flag=True,
                        help="Leave out customers whose files cannot be read (each is still named on "
                             "stderr) instead of failing with exit 4.")(fn)


def report_skipped(problems: Sequence[str], skip_invalid: bool, what: str) -> None:
    """Name every unreadable customer on stderr (``path:line: problem``); without --skip-invalid, fail (exit 4)."""
    for line in problems:
        echo(line, err=True)
    if problems and not skip_invalid:
        n = len(problems)
        raise InvalidRecord(f"{n} customer{'s' if n != 1 else ''} could not be read; {what}: fix "
                            f"{'them' if n != 1 else 'it'} (crm check lists every problem) or pass --skip-invalid "
                            "to leave them out")


def exit_partial(skipped: int, what: str, done_: str) -> None:
    """After the output is written: when --skip-invalid left ``skipped`` things out, say so and exit 9."""
    if skipped:
        raise Partial(f"{skipped:,} {what}{'s' if skipped != 1 else ''} left out (--skip-invalid); {done_}")


def shortened(store: Any, rows: Sequence[dict], *keys: str) -> list[dict]:
    """Rows for a table, with each customer id (or ``CUSTOMER/ID`` reference) under ``keys`` as its short id
    (``crmcli.store.lookup``; every command accepts it). Machine formats keep the full ids."""
    from crmcli.store.lookup import short_ids, short_ref  # the index module: only for commands showing tables

    cids = {str(r[k]).partition("/")[0] for r in rows for k in keys if r.get(k)}
    short = short_ids(store, sorted(cids))
    return [{**r, **{k: short_ref(str(r[k]), short) for k in keys if r.get(k)}} for r in rows]
