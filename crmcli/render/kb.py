"""Knowledge-base screens: the article list and search rows, one article, and a ticket's suggested articles."""
from __future__ import annotations

import sys
from typing import TextIO

from crmcli.domain.kb import Article
from crmcli.domain.text import first_line
from crmcli.domain.tickets import Ticket
from crmcli.render.tables import key_values

LIST_COLUMNS = ["slug", "title", "tags", "product", "audience"]
SEARCH_COLUMNS = ["slug", "title", "tags", "product", "audience", "score"]


def rows(articles: list[Article], fmt: str) -> list[dict]:
    """One row per article: tags as ``a, b`` in tables, a list in data formats."""
    out = []
    for a in articles:
        tags: object = ", ".join(a.tags) if fmt in ("table", "csv", "md") else list(a.tags)
        out.append({"slug": a.slug, "title": a.title, "tags": tags, "product": a.product, "audience": a.audience})
    return out


def search_rows(found: list[tuple[Article, float]], fmt: str) -> list[dict]:
    out = rows([a for a, _ in found], fmt)
    for row, (_, score) in zip(out, found, strict=True):
        row["score"] = score
    return out


def show(article: Article, out: TextIO | None = None) -> None:
    """The header fields, then the Markdown body as written."""
    out = out or sys.stdout
    pairs: list[tuple[str, object]] = [("article", f"kb/{article.slug}.md"), ("title", article.title),
                                       ("tags", ", ".join(article.tags)), ("product", article.product),
                                       ("audience", article.audience)]
    key_values([(k, v) for k, v in pairs if v not in (None, "")], out)
    if article.body:
        out.write("\n" + article.body.rstrip("\n") + "\n")


def suggestions(found: list[tuple[Article, float]], out: TextIO | None = None) -> None:
    """The ``Suggested articles`` block under ``crm ticket show`` (nothing when there is none)."""
    if not found:
        return
    out = out or sys.stdout
    lines = ["", "Suggested articles (link one: crm ticket comment TICKET --kb ARTICLE)"]
    for a, score in found:
        lines.append(f"  {a.slug}  {first_line(a.title, 60, mark='...')}  ({a.audience}, match {score:.2f})")
    out.write("".join(line + "\n" for line in lines))


def ticket_articles(ticket: Ticket, found: list[tuple[Article, float]]) -> dict:
    """Extra keys of ``crm ticket show --format json|yaml``: linked and suggested articles."""
    linked = list(dict.fromkeys(str(c["kb"]) for c in ticket.comments if c.get("kb")))
    return {"linked_articles": linked,
            "suggested_articles": [{"slug": a.slug, "title": a.title, "audience": a.audience, "score": s}
                                   for a, s in found]}
