"""The knowledge base on disk: ``kb/SLUG.md`` files, found and read as untrusted input.

Only regular files named ``SLUG.md`` directly in ``kb/`` are articles. ``kb/`` itself must be a real folder;
a symlink (to the folder or to any article), a subfolder or a file with another name is reported, never
followed or read. Reading is a scan of the folder: fine for hundreds of articles.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from crmcli.domain import kb
from crmcli.errors import CrmError, InvalidRecord, NotFound
from crmcli.store.paths import not_regular

if TYPE_CHECKING:
    from crmcli.store.store import Store

KB = "kb"


def kb_dir(store: Store) -> Path:
    return store.root / KB


def article_path(store: Store, slug: str) -> Path:
    return kb_dir(store) / f"{kb.check_slug(slug)}.md"


def _folder_ok(store: Store) -> bool:
    """True when kb/ is a real folder; False when it does not exist; InvalidRecord when it is something else."""
    folder = kb_dir(store)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidRecord(not_regular(store.rel(folder), st.st_mode, folder=True))
    return True


def scan(store: Store) -> tuple[list[str], list[str]]:
    """(slugs of the article files, problems with other entries of kb/), both sorted."""
    if not _folder_ok(store):
        return [], []
    slugs, problems = [], []
    for entry in sorted(os.scandir(kb_dir(store)), key=lambda e: e.name):
        name = entry.name
        if name.startswith("."):
            continue
        rel = f"{KB}/{name}"
        st = entry.stat(follow_symlinks=False)
        if not name.endswith(".md"):
            if not stat.S_ISDIR(st.st_mode):
                problems.append(f"{rel}: not an article (articles are kb/NAME.md); move or remove it")
            else:
                problems.append(f"{rel}: articles live directly in kb/, not in subfolders; move them up")
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append(not_regular(rel, st.st_mode))
            continue
        slug = name[:-3]
        try:
            kb.check_slug(slug)
        except InvalidRecord as exc:
            problems.append(f"{rel}: {exc}; rename the file")
            continue
        slugs.append(slug)
    return slugs, problems


def read(store: Store, slug: str) -> kb.Article:
    """One article; NotFound when there is none, InvalidRecord when its file is not a valid article."""
    if not _folder_ok(store):
        raise NotFound(f"no article {slug!r}: the store has no kb/ yet; add one with crm kb add TITLE")
    path = article_path(store, slug)
    rel = f"{KB}/{slug}.md"
    try:
        text = store.read_text(path)
    except FileNotFoundError:
        raise NotFound(f"no article {slug!r} ({rel}); see crm kb list") from None
    return kb.parse(slug, text, rel)


def load(store: Store) -> tuple[list[kb.Article], list[str]]:
    """Every readable article, and one problem line per entry of kb/ that is not one."""
    slugs, problems = scan(store)
    articles = []
    for slug in slugs:
        try:
            articles.append(read(store, slug))
        except (CrmError, OSError) as exc:
            problems.append(str(exc))
    return articles, problems


def resolve(store: Store, ref: str) -> str:
    """The slug ``ref`` names: exact, else a unique prefix."""
    wanted = str(ref).strip().lower()
    if wanted.startswith(f"{KB}/"):
        wanted = wanted[len(KB) + 1:]
    wanted = wanted.removesuffix(".md")
    slugs, _ = scan(store)
    if wanted in slugs:
        return wanted
    matches = [s for s in slugs if s.startswith(wanted)] if wanted else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"article {ref!r} is ambiguous: {', '.join(matches[:5])}; give more of its name")
    raise NotFound(f"no article {ref!r}; see crm kb list (or crm kb search WORDS)")
