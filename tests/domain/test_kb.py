"""The knowledge base's pure part: article files, terms (Chinese included), search and suggestions."""
from __future__ import annotations

import pytest

from crmcli.domain import kb
from crmcli.errors import InvalidRecord


def test_article_text_round_trips() -> None:
    a = kb.build("reset-sso", title="Reset SSO", tags="sso, login", product="Portal", audience_="Customer",
                 body="# Steps\n\n1. Open Admin\n")
    assert (a.tags, a.audience, a.body) == (["sso", "login"], "customer", "# Steps\n\n1. Open Admin")
    again = kb.parse("reset-sso", a.text(), "kb/reset-sso.md")
    assert again == a


def test_parse_accepts_crlf_and_bom_and_names_the_file() -> None:
    a = kb.parse("x", "\ufeff---\r\ntitle: 标题\r\n---\r\nbody\r\n", "kb/x.md")
    assert (a.title, a.audience, a.body) == ("标题", "internal", "body")
    with pytest.raises(InvalidRecord, match=r"^kb/x.md: unknown header key 'owner'"):
        kb.parse("x", "---\ntitle: t\nowner: me\n---\n", "kb/x.md")
    with pytest.raises(InvalidRecord, match="kb/x.md: larger than"):
        kb.parse("x", "---\ntitle: t\n---\n" + "a" * (kb.MAX_BYTES + 1), "kb/x.md")


@pytest.mark.parametrize("slug", ["", "A", "a_b", "-a", "a--b", "a/b", "../x", "a" * 65])
def test_bad_slugs(slug: str) -> None:
    with pytest.raises(InvalidRecord):
        kb.check_slug(slug)


def test_terms_split_chinese_into_characters_and_pairs() -> None:
    assert kb.terms("无法登录 SSO-Login") == ["无", "法", "登", "录", "无法", "法登", "登录", "sso", "login"]
    assert kb.terms("ＡＢＣ１２") == ["abc12"]


def test_search_needs_every_term_and_ranks_by_hits() -> None:
    a = kb.build("a", title="Login help", body="login login login")
    b = kb.build("b", title="Reports", body="a login mention")
    c = kb.build("c", title="登录问题", body="无法登录")
    assert [x.slug for x, _ in kb.search([a, b, c], "login")] == ["a", "b"]
    assert [x.slug for x, _ in kb.search([a, b, c], "login reports")] == ["b"]
    assert [x.slug for x, _ in kb.search([a, b, c], "登录")] == ["c"]
    assert kb.search([a, b, c], "登陆") == []


def test_suggest_prefers_rare_shared_terms() -> None:
    sso = kb.build("sso", title="Reset SSO", body="the SSO configuration loops")
    export = kb.build("export", title="Export", body="the export to xlsx")
    found = kb.suggest([sso, export], "SSO loops on the login page")
    assert [a.slug for a, _ in found] == ["sso"]
    assert kb.suggest([sso, export], "the") == []  # stop words alone suggest nothing
    assert kb.suggest([], "anything") == []
