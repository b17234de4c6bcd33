"""Knowledge base: ``crm kb add / edit / list / show / search``, and the articles a ticket should see.

Articles are ``kb/SLUG.md`` files (``crmcli.domain.kb``, read by ``crmcli.store.kb``); each change is one
file written in one transaction, one commit.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from crmcli.domain import kb
from crmcli.domain.kb import Article
from crmcli.domain.text import fold
from crmcli.domain.tickets import Ticket
from crmcli.errors import CrmError, InvalidRecord, Problem, UsageError
from crmcli.store import index_kb
from crmcli.store import kb as files
from crmcli.store.index import open_index
from crmcli.store.store import Store


def add_article(store: Store, title: str, *, slug: str | None = None, tags: Any = None, product: str | None = None,
                audience: str | None = None, body: str | None = None) -> Article:
    taken, _ = files.scan(store)
    name = kb.check_slug(slug) if slug else kb.new_slug(str(title or ""), taken)
    if name in taken:
        raise InvalidRecord(f"kb/{name}.md exists already; pick another --slug or edit it (crm kb edit {name})")
    article = kb.build(name, title=title, tags=tags, product=product, audience_=audience, body=body)
    with store.transaction(f"Add article {name}: {article.title}", action="kb.add") as tx:
        tx.write(files.article_path(store, name), article.text())
    return article


def _save(store: Store, before: Article, after: Article) -> Article | None:
    if after.text() == before.text():
        return None
    with store.transaction(f"Edit article {after.slug}: {after.title}", action="kb.edit") as tx:
        tx.write(files.article_path(store, after.slug), after.text())
    return after


def edit_article(store: Store, ref: str, *, title: str | None = None, tags: Any = None,
                 product: str | None = None, audience: str | None = None,
                 body: str | None = None) -> tuple[Article, Article | None]:
    """Change the given fields (``""`` clears tags or product); (before, after or None when nothing changed)."""
    slug = files.resolve(store, ref)
    before = files.read(store, slug)
    after = kb.build(slug, title=before.title if title is None else title,
                     tags=before.tags if tags is None else tags,
                     product=before.product if product is None else product,
                     audience_=before.audience if audience is None else audience,
                     body=before.body if body is None else body)
    return before, _save(store, before, after)


def edit_article_text(store: Store, ref: str, text: str) -> tuple[Article, Article | None]:
    """Replace an article with a whole file's text (from an editor or --from-file), checked first."""
    slug = files.resolve(store, ref)
    before = files.read(store, slug)
    return before, _save(store, before, kb.parse(slug, text, f"kb/{slug}.md (edited)"))


def article_text(store: Store, ref: str) -> tuple[str, str]:
    """(slug, the file's text as it is), for an editor."""
    slug = files.resolve(store, ref)
    return slug, store.read_text(files.article_path(store, slug))


def show_article(store: Store, ref: str) -> Article:
    return files.read(store, files.resolve(store, ref))


@dataclass
class Listing:
    articles: list[Article]
    problems: list[str]


def list_articles(store: Store, *, tag: str | None = None, product: str | None = None,
                  audience: str | None = None) -> Listing:
    articles, problems = files.load(store)
    wanted = kb.audience(audience) if audience else None
    out = [a for a in articles
           if (not tag or fold(tag) in [fold(t) for t in a.tags])
           and (not product or fold(product) == fold(a.product or ""))
           and (not wanted or a.audience == wanted)]
    return Listing(sorted(out, key=lambda a: a.slug), problems)


def search_articles(store: Store, query: str, *, audience: str | None = None) -> tuple[list[tuple[Article, float]],
                                                                                       list[str]]:
    """Articles holding every word of ``query`` (Chinese by characters), best first; and the unreadable ones."""
    if not kb.terms(str(query or "")):
        raise UsageError("nothing to search for; give some words, e.g. crm kb search 登录")
    wanted_audience = kb.audience(audience) if audience else None
    wanted, prefix = kb.query_terms(str(query))
    with open_index(store, catch_up=False) as index:  # the articles' terms, caught up with kb/ here
        problems = index_kb.catch_up(index)
        counts = index_kb.term_counts(index, wanted, prefix)
    found = []
    for slug, have in sorted(counts.items()):
        points = kb.score(have, wanted)
        if points is None:
            continue
        try:
            article = files.read(store, slug)  # only the matches are parsed
        except (CrmError, OSError) as exc:
            problems.append(str(exc))
            continue
        if not wanted_audience or article.audience == wanted_audience:
            found.append((article, points))
    return sorted(found, key=lambda pair: (-pair[1], pair[0].slug)), problems


def suggest_for_ticket(store: Store, ticket: Ticket, limit: int = 3) -> list[tuple[Article, float]]:
    """The articles most relevant to a ticket's title, description and comments; linked ones left out.

    A store whose kb/ cannot be read suggests nothing rather than failing ``crm ticket show``.
    """
    try:
        articles, _ = files.load(store)
    except (InvalidRecord, OSError):
        return []
    linked = set(linked_articles(ticket))
    text = " ".join([ticket.title, ticket.text or "", *[str(c.get("text") or "") for c in ticket.comments]])
    return kb.suggest([a for a in articles if a.slug not in linked], text, limit)


def linked_articles(ticket: Ticket) -> list[str]:
    return list(dict.fromkeys(str(c["kb"]) for c in ticket.comments if c.get("kb")))


def article_for_comment(store: Store, ref: str, *, internal: bool) -> Article:
    """The article a ticket comment links; an internal one only in an internal note."""
    article = files.read(store, files.resolve(store, ref))
    if article.audience == "internal" and not internal:
        raise InvalidRecord(f"article {article.slug} is internal (audience: internal); link it in a note with "
                            f"--internal, or share it first: crm kb edit {article.slug} --audience customer")
    return article


def check_articles(store: Store, _results: Any = None) -> Iterator[Problem]:
    """``crm check``: every entry of kb/ that is not a valid article (kb/ itself not a folder included)."""
    try:
        _, problems = files.load(store)
    except InvalidRecord as exc:
        yield Problem(files.KB, None, str(exc))
        return
    for line in problems:
        path, _, message = line.partition(": ")
        yield Problem(path, None, message)
