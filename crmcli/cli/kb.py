"""`crm kb ...`: the knowledge base of Markdown articles in kb/: add, edit, list, show, search."""
from __future__ import annotations

import sys

import click

from crmcli.actions import kb as actions
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    echo,
    exit_partial,
    format_option,
    get_app,
    records_option,
    store_options,
)
from crmcli.errors import UsageError
from crmcli.render import kb as screens
from crmcli.render.tables import render, render_data

AUDIENCE = click.Choice(["internal", "customer"], case_sensitive=False)


@click.group(context_settings=CONTEXT_SETTINGS)
def kb() -> None:
    """Knowledge base: Markdown articles in kb/ with a small YAML header.

    ARTICLE is an article's name (the file kb/NAME.md) or a unique prefix of it.
    Tickets link articles with crm ticket comment TICKET --kb ARTICLE, and
    crm ticket show suggests the articles that match the ticket's text.

    \b
    Examples:
      crm kb add "Reset the SSO configuration" --tag sso --tag login --audience customer -m "1. Open Admin..."
      crm kb search 登录
      crm kb show reset-sso
    """


def _body(message: str | None, file: str | None) -> str | None:
    if message is not None and file:
        raise UsageError("give the body with -m or --file, not both")
    if not file:
        return message
    try:
        if file == "-":
            return sys.stdin.read()
        with open(file, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--file {file}: cannot read it as UTF-8 text ({exc}); check the path") from None


def _tags(tags: tuple[str, ...]) -> list[str] | None:
    return [t for given in tags for t in given.split(",")] if tags else None


@kb.command("add")
@click.argument("title")
@click.option("--slug", metavar="NAME", help="File name kb/NAME.md (default: from the title; Chinese as pinyin).")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="A tag (repeatable, or comma-separated).")
@click.option("--product", help="The product the article is about.")
@click.option("--audience", type=AUDIENCE, default="internal", show_default=True,
              help="Who may read it: internal (the team) or customer (may be sent to customers).")
@click.option("--message", "-m", "message", metavar="TEXT", help="The Markdown body.")
@click.option("--file", "file", metavar="FILE", help="Read the Markdown body from FILE (- for standard input).")
@store_options
def kb_add(title: str, slug: str | None, tags: tuple[str, ...], product: str | None, audience: str,
           message: str | None, file: str | None) -> None:
    """Add an article; prints its name.

    \b
    Examples:
      crm kb add "Reset the SSO configuration" --tag sso,login --product Portal --audience customer -m "Steps..."
      crm kb add "无法登录怎么办" --slug login-help --tag 登录 --file login.md
    """
    store = get_app().store()
    article = actions.add_article(store, title, slug=slug, tags=_tags(tags), product=product, audience=audience,
                                  body=_body(message, file))
    echo(article.slug)
    done(f"Added article kb/{article.slug}.md: {article.title}", store)


@kb.command("edit")
@click.argument("ref", metavar="ARTICLE")
@click.option("--title", help="A new title.")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="Replace the tags (repeatable; '' clears).")
@click.option("--product", help="A new product ('' clears it).")
@click.option("--audience", type=AUDIENCE, help="internal or customer.")
@click.option("--message", "-m", "message", metavar="TEXT", help="A new Markdown body.")
@click.option("--file", "file", metavar="FILE", help="Read a new Markdown body from FILE (- for standard input).")
@click.option("--from-file", "from_file", metavar="FILE",
              help="Replace the whole article (header and body) with this file, checked first.")
@store_options
def kb_edit(ref: str, title: str | None, tags: tuple[str, ...], product: str | None, audience: str | None,
            message: str | None, file: str | None, from_file: str | None) -> None:
    """Change an article's fields or body, or edit the whole file in $EDITOR.

    Without options, opens kb/NAME.md in $EDITOR and saves it only when it is a
    valid article.

    \b
    Examples:
      crm kb edit reset-sso --audience customer --tag sso --tag login
      crm kb edit reset-sso --file reset-sso.md
      crm kb edit reset-sso            # opens $EDITOR
    """
    store = get_app().store()
    fields = (title, product, audience, message, file)
    if from_file:
        if tags or any(v is not None for v in fields):
            raise UsageError("--from-file replaces the whole article; give no other option with it")
        before, after = actions.edit_article_text(store, ref, str(_body(None, from_file)))
    elif tags or any(v is not None for v in fields):
        before, after = actions.edit_article(store, ref, title=title, tags=_tags(tags), product=product,
                                             audience=audience, body=_body(message, file))
    else:
        if not sys.stdin.isatty():
            raise UsageError("no option given and no terminal to open an editor on; use --title, --tag, -m ...")
        slug, original = actions.article_text(store, ref)
        edited = click.edit(original, extension=".md", require_save=True)
        if edited is None or edited == original:
            done("No change.")
            return
        before, after = actions.edit_article_text(store, slug, edited)
    if after is None:
        done("No change.")
        return
    done(f"Updated article kb/{after.slug}.md: {after.title}", store)


@kb.command("list")
@click.option("--tag", "-t", help="Only articles with this tag.")
@click.option("--product", help="Only articles about this product.")
@click.option("--audience", type=AUDIENCE, help="Only internal or only customer articles.")
@format_option()
@records_option
def kb_list(tag: str | None, product: str | None, audience: str | None, fmt: str) -> None:
    """List the articles by name. Unreadable article files are named on stderr (exit 9).

    \b
    Examples:
      crm kb list
      crm kb list --tag sso --audience customer --format json
    """
    store = get_app().store()
    listing = actions.list_articles(store, tag=tag, product=product, audience=audience)
    render(screens.rows(listing.articles, fmt), fmt, columns=screens.LIST_COLUMNS, empty="No articles.")
    _problems(listing.problems)


def _problems(problems: list[str]) -> None:
    for line in problems:
        echo(line, err=True)
    exit_partial(len(problems), "unreadable article file", "the others are shown")


@kb.command("show")
@click.argument("ref", metavar="ARTICLE")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def kb_show(ref: str, fmt: str) -> None:
    """Show an article: its header fields, then its Markdown text.

    \b
    Examples:
      crm kb show reset-sso
      crm kb show reset --format json
    """
    store = get_app().store()
    article = actions.show_article(store, ref)
    if fmt == "text":
        screens.show(article)
    else:
        render_data(article.data(), fmt)


@kb.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--audience", type=AUDIENCE, help="Only internal or only customer articles.")
@format_option()
@records_option
def kb_search(words: tuple[str, ...], audience: str | None, fmt: str) -> None:
    """Find articles holding every word (title, tags, product, body), best match first.

    Case and full-width forms are ignored; Chinese matches by characters, so no
    spaces are needed between words.

    \b
    Examples:
      crm kb search sso login
      crm kb search 登录失败 --audience customer
    """
    store = get_app().store()
    found, problems = actions.search_articles(store, " ".join(words), audience=audience)
    render(screens.search_rows(found, fmt), fmt, columns=screens.SEARCH_COLUMNS, empty="No article matches.")
    _problems(problems)
