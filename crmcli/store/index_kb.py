"""The knowledge base in the derived index (``crmcli.store.index``): each ``kb/`` article's terms, so that
``crm kb search`` parses only the articles that match.

The tables are made on first use (``CREATE TABLE IF NOT EXISTS``: an index built before them gains them, the schema
version stays). Caught up before every search as the customers' files are: each ``kb/NAME.md`` is ``lstat``-ed and
parsed again when its size or modification time differs from the stored one (a file written within the last two
seconds is stored as "read again next time", git's racily-clean rule); an article that is gone loses its rows.
"""
from __future__ import annotations

import os
import time
from collections import Counter

from crmcli.errors import CrmError
from crmcli.store import kb as files
from crmcli.store.index import Index

_TABLES = (
    "CREATE TABLE IF NOT EXISTS kb_files (slug TEXT PRIMARY KEY, st_mtime INTEGER, st_size INTEGER, problem TEXT)",
    "CREATE TABLE IF NOT EXISTS kb_terms (slug TEXT NOT NULL, term TEXT NOT NULL, n INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kb_terms_term ON kb_terms (term, slug)",
)
_RACY_NS = 2_000_000_000
_TOP = "\U0010ffff"


def catch_up(index: Index) -> list[str]:
    """Bring the articles' rows up to date with ``kb/``; the problems of entries that are not articles (as
    ``crmcli.store.kb.load`` names them)."""
    db, store = index.db, index.store
    for statement in _TABLES:
        db.execute(statement)
    slugs, problems = files.scan(store)
    stored = {slug: (mtime, size, problem) for slug, mtime, size, problem in
              db.execute("SELECT slug, st_mtime, st_size, problem FROM kb_files")}
    now = time.time_ns()
    db.execute("BEGIN")
    try:
        for slug in sorted(set(stored) - set(slugs)):
            db.execute("DELETE FROM kb_files WHERE slug = ?", (slug,))
            db.execute("DELETE FROM kb_terms WHERE slug = ?", (slug,))
        for slug in slugs:
            try:
                st = os.lstat(files.article_path(store, slug))
            except OSError:
                continue
            old = stored.get(slug)
            if old is not None and old[0] is not None and (old[0], old[1]) == (st.st_mtime_ns, st.st_size):
                if old[2]:
                    problems.append(old[2])
                continue
            mtime = None if now - st.st_mtime_ns < _RACY_NS else st.st_mtime_ns
            db.execute("DELETE FROM kb_terms WHERE slug = ?", (slug,))
            problem = None
            try:
                article = files.read(store, slug)
            except (CrmError, OSError) as exc:
                problem = str(exc)
                problems.append(problem)
            else:
                db.executemany("INSERT INTO kb_terms VALUES (?, ?, ?)",
                               ((slug, term, n) for term, n in article.terms().items()))
            db.execute("INSERT OR REPLACE INTO kb_files VALUES (?, ?, ?, ?)", (slug, mtime, st.st_size, problem))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return problems


def term_counts(index: Index, wanted: list[str], prefix: dict[str, bool]) -> dict[str, Counter[str]]:
    """For each readable article holding a term of ``wanted`` (or, where ``prefix`` says so, a term starting with
    it): its counts of those terms. Only these entries can score the article (``crmcli.domain.kb.score``)."""
    out: dict[str, Counter[str]] = {}
    for term in wanted:
        if prefix.get(term):
            rows = index.db.execute("SELECT slug, term, n FROM kb_terms WHERE term >= ? AND term < ?",
                                    (term, term + _TOP))
        else:
            rows = index.db.execute("SELECT slug, term, n FROM kb_terms WHERE term = ?", (term,))
        for slug, found, n in rows:
            out.setdefault(slug, Counter())[found] = n
    return out
