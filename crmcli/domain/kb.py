"""Knowledge-base articles: the Markdown file with its YAML header, checked; matching and ranking by text.

An article is ``kb/SLUG.md`` in the store::

    ---
    title: Reset the SSO configuration
    tags: [sso, login]
    product: Portal
    audience: customer        # or internal
    ---
    Markdown body...

Article files are untrusted input (anyone with write access to the repository can put one there): the
header is read with the safe loader, only the keys above are accepted, and every value is checked.

Matching works on *terms*: NFKC-folded, case-folded words of letters and digits, and for Chinese (and other
CJK) text every single character and every pair of neighbouring characters, so ``登录`` finds ``无法登录系统``
without a word segmenter. Pure: no store, no disk.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crmcli import yamlio
from crmcli.domain import ids
from crmcli.domain.text import checked_text, fold
from crmcli.errors import InvalidRecord
from crmcli.yamlio import YamlSyntaxError

AUDIENCES = ("customer", "internal")
KEYS = ("title", "tags", "product", "audience")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 64
MAX_BYTES = 256 * 1024
_FENCE = "---"
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TERM = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


@dataclass
class Article:
    slug: str
    title: str
    tags: list[str] = field(default_factory=list)
    product: str | None = None
    audience: str = "internal"
    body: str = ""

    def header(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title}
        if self.tags:
            out["tags"] = list(self.tags)
        if self.product:
            out["product"] = self.product
        out["audience"] = self.audience
        return out

    def text(self) -> str:
        """The file's content: the header between ``---`` lines, a blank line, the body."""
        head = yamlio.dumps(self.header())
        body = self.body.strip("\n")
        return f"{_FENCE}\n{head}{_FENCE}\n" + (f"\n{body}\n" if body else "")

    def data(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "tags": list(self.tags), "product": self.product,
                "audience": self.audience, "body": self.body}

    def terms(self) -> Counter[str]:
        """Terms of the article; the title and tags count three times (they say what it is about)."""
        found = Counter(terms(self.body))
        strong = terms(" ".join([self.title, *self.tags, self.product or ""]))
        for term in strong:
            found[term] += 3
        return found


# -- checking ----------------------------------------------------------------------

def check_slug(slug: str) -> str:
    value = str(slug).strip()
    if not SLUG_RE.match(value) or len(value) > MAX_SLUG:
        raise InvalidRecord(f"article name {value!r} must be lower-case letters, digits and dashes "
                            f"(at most {MAX_SLUG}), e.g. reset-sso")
    return value


def new_slug(title: str, taken: Iterable[str]) -> str:
    """A slug for a new article's title (Chinese becomes pinyin), not one of ``taken``."""
    base = ids.slugify(title)
    if base == "customer" and "customer" not in fold(title):
        base = "article"
    used = set(taken)
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    return slug


def audience(value: Any, where: str = "") -> str:
    wanted = str(value).strip().casefold()
    if wanted not in AUDIENCES:
        hint = f"{where}: " if where else ""
        raise InvalidRecord(f"{hint}audience {value!r} is not one of: {', '.join(AUDIENCES)}")
    return wanted


def tag_list(value: Any, where: str = "") -> list[str]:
    """Tags as given: a list, or one comma-separated text; each one line, no duplicates."""
    if value is None or value == "":
        return []
    raw = value.split(",") if isinstance(value, str) else value
    if not isinstance(raw, list):
        raise InvalidRecord(f"{where}tags must be a list (tags: [sso, login]) or comma-separated text")
    out: list[str] = []
    for item in raw:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise InvalidRecord(f"{where}each tag must be text, not {type(item).__name__}")
        tag = checked_text(str(item), "tag", required=False, one_line=True)
        if tag and tag not in out:
            out.append(tag)
    return out


def build(slug: str, *, title: Any, tags: Any = None, product: Any = None, audience_: Any = "internal",
          body: Any = "", where: str = "") -> Article:
    """A checked article from its fields (from options, or from a file's header)."""
    prefix = f"{where}: " if where else ""
    try:
        title_ = str(checked_text(title, "title", one_line=True))
        product_ = checked_text(product, "product", required=False, one_line=True)
        body_ = checked_text(body, "body", required=False) or ""
    except InvalidRecord as exc:
        raise InvalidRecord(f"{prefix}{exc}") from None
    return Article(check_slug(slug), title_, tag_list(tags, prefix), product_,
                   audience(audience_ if audience_ not in (None, "") else "internal", where), body_)


def parse(slug: str, text: str, where: str) -> Article:
    """An article from a file's text; ``InvalidRecord`` naming ``where`` and how to fix it."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InvalidRecord(f"{where}: larger than {MAX_BYTES // 1024} KiB; split the article")
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise InvalidRecord(f"{where}: an article starts with a '---' line, then its YAML header (title: ...), "
                            "then '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise InvalidRecord(f"{where}: the header has no closing '---' line; add one after it") from None
    try:
        head = yamlio.loads("\n".join(lines[1:end]), where)
    except YamlSyntaxError as exc:
        raise InvalidRecord(f"{where}: header: {exc}") from None
    if not isinstance(head, dict):
        raise InvalidRecord(f"{where}: the header must be key: value lines (title, tags, product, audience)")
    unknown = [str(k) for k in head if k not in KEYS]
    if unknown:
        raise InvalidRecord(f"{where}: unknown header key {unknown[0]!r}; use: {', '.join(KEYS)}")
    if "title" not in head:
        raise InvalidRecord(f"{where}: the header needs a title (title: ...)")
    for key in ("title", "product", "audience"):
        if head.get(key) is not None and not isinstance(head[key], (str, int, float)):
            raise InvalidRecord(f"{where}: {key} must be text")
    body = "\n".join(lines[end + 1:]).strip("\n")
    return build(slug, title=head.get("title"), tags=head.get("tags"), product=head.get("product"),
                 audience_=head.get("audience"), body=body, where=where)


# -- matching and ranking ----------------------------------------------------------

def terms(text: str) -> list[str]:
    """Folded words; Chinese runs give each character and each pair of neighbours."""
    out: list[str] = []
    for run in _TERM.findall(fold(text)):
        if _IS_CJK.match(run):
            out += list(run)
            out += [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            out.append(run)
    return out


def _query_terms(text: str) -> list[str]:
    """Terms a query must all match: words, and Chinese pairs (a single character alone when it is all)."""
    out: list[str] = []
    for run in _TERM.findall(fold(text)):
        if _IS_CJK.match(run) and len(run) > 1:
            out += [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            out.append(run)
    return list(dict.fromkeys(out))


def query_terms(query: str) -> tuple[list[str], dict[str, bool]]:
    """The terms an article must all hold to match ``query``, and which of them match by prefix (words do;
    Chinese does not)."""
    wanted = _query_terms(query)
    return wanted, {t: not _IS_CJK.match(t) for t in wanted}


def score(have: Counter[str], wanted: list[str]) -> float | None:
    """An article's score for the query terms ``wanted``; None when it lacks one. ``have`` needs only the
    article's terms equal to, or (for words) starting with, a wanted term."""
    total = 0.0
    for term in wanted:
        hits = have.get(term, 0) or sum(n for t, n in have.items() if t.startswith(term) and
                                       not _IS_CJK.match(term))
        if not hits:
            return None
        total += 1 + math.log(hits)
    return round(total, 3)


def search(articles: list[Article], query: str) -> list[tuple[Article, float]]:
    """Articles holding every term of ``query`` (words match by prefix), best first."""
    wanted = _query_terms(query)
    if not wanted:
        return []
    found = [(a, s) for a in articles if (s := score(a.terms(), wanted)) is not None]
    return sorted(found, key=lambda pair: (-pair[1], pair[0].slug))


_STOP = frozenset("a an and are as at be but by can do does for from has have how i in is it its my no not "
                  "of on or our so that the this to was we what when with you your".split())


def suggest(articles: list[Article], text: str, limit: int = 3) -> list[tuple[Article, float]]:
    """The articles most relevant to a ticket's ``text``: shared terms weighted by rarity (tf-idf, cosine)."""
    if not articles:
        return []
    docs = [a.terms() for a in articles]
    df: Counter[str] = Counter(t for d in docs for t in d)
    n = len(docs)

    def weights(counts: Counter[str]) -> dict[str, float]:
        return {t: (1 + math.log(c)) * math.log(1 + n / df[t]) for t, c in counts.items()
                if t in df and t not in _STOP and (len(t) > 1 or _IS_CJK.match(t))}

    query = weights(Counter(terms(text)))
    if not query:
        return []
    qnorm = math.sqrt(sum(w * w for w in query.values()))
    scored = []
    for a, counts in zip(articles, docs, strict=True):
        vec = weights(counts)
        dot = sum(w * vec[t] for t, w in query.items() if t in vec)
        if dot > 0:
            norm = math.sqrt(sum(w * w for w in vec.values()))
            scored.append((a, round(dot / (qnorm * norm), 3)))
    return sorted(scored, key=lambda pair: (-pair[1], pair[0].slug))[:limit]
