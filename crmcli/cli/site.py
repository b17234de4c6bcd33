"""`crm site build` and `crm serve`: the read-only web view of the store (crmcli.web)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from crmcli.cli.common import CONTEXT_SETTINGS, get_app, records_option
from crmcli.errors import Partial, UsageError


@click.group(context_settings=CONTEXT_SETTINGS)
def site() -> None:
    """A static web site of the store, for colleagues away from the terminal.

    \b
    Examples:
      crm site build -o public
    """


@site.command("build")
@click.option("--output", "-o", metavar="DIR", required=True, help="Folder to write the site to (made if missing).")
@records_option
def build_cmd(output: str) -> None:
    """Write the site: home (headline numbers, agenda), a page per customer, pipeline, tickets, reports.

    Plain HTML and CSS with inline SVG charts; open DIR/index.html from disk or put DIR on any static host.
    Building again only rewrites the pages of customers whose files changed (and the pages about the
    whole store); DIR/.crm-site.json remembers what was built. Labels follow language: in crm.yaml.

    \b
    Examples:
      crm site build -o public
      crm site build -o public && python3 -m http.server -d public
    """
    from crmcli.web.build import build_site

    store = get_app().store()
    progress = None
    if sys.stderr.isatty():
        def progress(what: str, done: int, total: int) -> None:
            click.echo(f"\rcrm: {what} pages {done:,}/{total:,}", err=True, nl=done == total)
    result = build_site(store, Path(output), progress=progress)
    for problem in result.problems:
        click.echo(f"crm: skipped: {problem}", err=True)
    click.echo(f"Built {output}: {len(result.written)} page(s) written ({result.customers_made} customer pages made), "
               f"{result.unchanged} unchanged, {len(result.removed)} removed in {result.seconds:.1f}s", err=True)
    if result.problems:
        n = len(result.problems)
        raise Partial(f"{n} unreadable customer{'s' if n != 1 else ''} left out of the site (named above); "
                      "the rest was written: fix the files (crm check lists every problem) and build again")


@click.command("serve", context_settings=CONTEXT_SETTINGS)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback prints a warning (colleagues can then read it).")
@click.option("--token", metavar="TEXT", envvar="CRM_SERVE_TOKEN",
              help="Ask for this token (?token=TEXT once, or Authorization: Bearer TEXT) (default: $CRM_SERVE_TOKEN).")
@records_option
def serve_cmd(port: int, host: str, token: str | None) -> None:
    """Serve the site's pages live from the store, read-only, until Ctrl-C.

    The pages are brought up to date as the store changes (at once after a crm command commits,
    within 30 seconds after a hand edit). Only GET and HEAD; nothing outside the site is served.

    \b
    Examples:
      crm serve
      crm serve --port 9000 --token s3cret
    """
    from crmcli.web.serve import serve

    if token is not None and not token.strip():
        raise UsageError("--token: empty; give a token, or leave the option out")
    store = get_app().store()
    try:
        serve(store, host=host, port=port, token=token)
    except OSError as exc:
        raise UsageError(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                         "try another --port") from None
    except KeyboardInterrupt:
        click.echo("crm serve: stopped", err=True)
