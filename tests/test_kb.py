"""Knowledge base: crm kb add/edit/list/show/search, ticket links and suggestions, the service report's sections."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Crm, commits, git, snapshot


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def acme(invoke) -> str:
    return ok(invoke("customer", "add", "Acme Corp")).strip()


def add(invoke, title: str, *args: str) -> str:
    return ok(invoke("kb", "add", title, *args)).strip()


def test_add_writes_a_markdown_file_with_header_in_one_commit(invoke, store_dir: Path) -> None:
    slug = add(invoke, "Reset the SSO configuration", "--tag", "sso,login", "--tag", "admin", "--product", "Portal",
               "--audience", "customer", "-m", "1. Open Admin\n2. Click *Reset*")
    assert slug == "reset-the-sso-configuration"
    text = (store_dir / "kb" / f"{slug}.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Reset the SSO configuration\n")
    assert "audience: customer" in text and text.endswith("1. Open Admin\n2. Click *Reset*\n")
    assert commits(store_dir)[0] == f"Add article {slug}: Reset the SSO configuration"
    assert git(store_dir, "status", "--porcelain") == ""
    data = json.loads(ok(invoke("kb", "show", "reset", "--format", "json")))
    assert data == {"slug": slug, "title": "Reset the SSO configuration", "tags": ["sso", "login", "admin"],
                    "product": "Portal", "audience": "customer", "body": "1. Open Admin\n2. Click *Reset*"}
    # Chinese titles become pinyin names; a taken name gets a number
    assert add(invoke, "无法登录") == "wu-fa-deng-lu"
    assert add(invoke, "无法登录") == "wu-fa-deng-lu-2"
    assert invoke("kb", "add", "Other", "--slug", slug).exit_code == 4
    assert invoke("kb", "add", "Other", "--slug", "Bad Name").exit_code == 4


def test_list_filters_and_search_chinese_and_words(invoke) -> None:
    add(invoke, "Reset the SSO configuration", "--tag", "sso", "--audience", "customer", "-m", "Login loops")
    add(invoke, "Export reports to Excel", "--tag", "reports", "--product", "Analytics", "-m", "Use xlsx")
    add(invoke, "无法登录怎么办", "--slug", "login-help", "--tag", "登录", "-m", "请检查单点登录配置，然后重试。")
    listing = json.loads(ok(invoke("kb", "list", "--format", "json")))
    assert [a["slug"] for a in listing] == ["export-reports-to-excel", "login-help", "reset-the-sso-configuration"]
    assert [a["slug"] for a in json.loads(ok(invoke("kb", "list", "--audience", "customer", "--format", "json")))] \
        == ["reset-the-sso-configuration"]
    assert [a["slug"] for a in json.loads(ok(invoke("kb", "list", "--product", "analytics", "--format", "json")))] \
        == ["export-reports-to-excel"]

    def found(*words: str) -> list[str]:
        return [a["slug"] for a in json.loads(ok(invoke("kb", "search", *words, "--format", "json")))]

    assert found("登录") == ["login-help"]
    assert found("单点登录") == ["login-help"]           # no spaces needed between Chinese words
    assert found("登陆") == []                            # a different word is not a match
    assert found("ＳＳＯ", "login") == ["reset-the-sso-configuration"]  # full-width and case folded
    assert found("sso", "excel") == []                   # every word must match
    assert found("expo") == ["export-reports-to-excel"]  # words match by prefix
    assert "No article matches." in ok(invoke("kb", "search", "nothing-like-this"))
    assert invoke("kb", "search", "  ").exit_code == 2


def test_search_goes_through_the_index_and_parses_only_matches(invoke, store_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from crmcli.domain import kb
    from crmcli.store import kb as files
    from crmcli.store.store import Store

    add(invoke, "Reset the SSO configuration", "--tag", "sso", "-m", "Exports are not affected")
    add(invoke, "排课数据丢失时如何恢复", "-m", "从备份恢复排课数据")
    add(invoke, "Dashboard export times out", "--tag", "export", "-m", "Narrow the exported date range")
    reads: list[str] = []
    real = files.read

    def counting(store, slug):  # noqa: ANN001, ANN202 - the wrapped function's own signature
        reads.append(slug)
        return real(store, slug)

    monkeypatch.setattr(files, "read", counting)

    def found(query: str) -> list[tuple[str, float]]:
        return [(r["slug"], r["score"]) for r in json.loads(ok(invoke("kb", "search", query, "--format", "json")))]

    def by_domain(query: str) -> list[tuple[str, float]]:  # every file parsed and ranked without the index
        every = [real(Store(store_dir), p.stem) for p in sorted((store_dir / "kb").glob("*.md"))]
        return [(a.slug, s) for a, s in kb.search(every, query)]

    for query in ("export", "排课 恢复", "sso", "nothing-like-this"):
        found(query)  # catches the index up (articles written just now are read again next time)
    time.sleep(2.1)  # past git's racily-clean window: the stored stamps are trusted from now on
    found("export")
    for query in ("export", "排课 恢复", "sso", "nothing-like-this"):
        reads.clear()
        assert found(query) == by_domain(query)
        assert len(reads) == len(by_domain(query))  # only the articles that match were parsed
    # a hand edit is seen by the next search; a removed article is gone
    path = store_dir / "kb" / "reset-the-sso-configuration.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Exports are", "Backups are"), encoding="utf-8")
    assert [slug for slug, _ in found("export")] == ["dashboard-export-times-out"]
    (store_dir / "kb" / "dashboard-export-times-out.md").unlink()
    assert found("export") == []


def test_edit_fields_and_whole_file(invoke, store_dir: Path, tmp_path: Path) -> None:
    slug = add(invoke, "Export reports", "--tag", "reports", "-m", "old body")
    ok(invoke("kb", "edit", slug, "--title", "Export reports to Excel", "--audience", "customer",
              "--tag", "", "-m", "new body"))
    data = json.loads(ok(invoke("kb", "show", slug, "--format", "json")))
    assert (data["title"], data["audience"], data["tags"], data["body"]) == \
        ("Export reports to Excel", "customer", [], "new body")
    assert commits(store_dir)[0] == f"Edit article {slug}: Export reports to Excel"
    before = snapshot(store_dir)
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: X\nowner: bob\n---\nbody\n", encoding="utf-8")
    result = invoke("kb", "edit", slug, "--from-file", str(bad))
    assert result.exit_code == 4 and "unknown header key 'owner'" in result.output
    assert snapshot(store_dir) == before
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: Excel export\ntags: [excel]\naudience: internal\n---\n\n# Steps\n",
                    encoding="utf-8")
    ok(invoke("kb", "edit", slug, "--from-file", str(good)))
    assert json.loads(ok(invoke("kb", "show", slug, "--format", "json")))["tags"] == ["excel"]
    result = invoke("kb", "edit", slug, "--title", "Excel export", "--tag", "excel")
    assert result.exit_code == 0 and "No change." in result.output


@pytest.mark.parametrize("content, message", [
    ("no header\n", "starts with a '---' line"),
    ("---\ntitle: X\n", "no closing '---'"),
    ("---\ntags: [a]\n---\n", "needs a title"),
    ("---\ntitle: X\naudience: public\n---\n", "audience 'public'"),
    ("---\ntitle: [1, 2]\n---\n", "title must be text"),
    ("---\ntitle: &a X\nproduct: *a\n---\n", "aliases"),
    ("---\n- a\n---\n", "key: value"),
])
def test_invalid_article_files_are_named_and_skipped(invoke, store_dir: Path, content: str, message: str) -> None:
    add(invoke, "Good one", "-m", "fine")
    (store_dir / "kb" / "broken.md").write_text(content, encoding="utf-8")
    result = invoke("kb", "list", "--format", "json")
    assert result.exit_code == 9
    assert [a["slug"] for a in json.loads(result.stdout)] == ["good-one"]
    assert "kb/broken.md" in result.stderr and message in result.stderr
    result = invoke("kb", "show", "broken")
    assert result.exit_code == 4 and message in result.output
    result = invoke("check")
    assert result.exit_code == 1 and "kb/broken.md" in result.output


def test_symlinks_and_stray_files_in_kb_are_never_read(invoke, store_dir: Path, tmp_path: Path) -> None:
    add(invoke, "Good one", "-m", "fine")
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: SECRET\n---\nprivate\n", encoding="utf-8")
    os.symlink(secret, store_dir / "kb" / "link.md")
    (store_dir / "kb" / "sub").mkdir()
    (store_dir / "kb" / "notes.txt").write_text("x", encoding="utf-8")
    result = invoke("kb", "list")
    assert result.exit_code == 9 and "SECRET" not in result.output
    assert "kb/link.md: is a symlink" in result.stderr
    assert "kb/sub" in result.stderr and "kb/notes.txt" in result.stderr
    shown = invoke("kb", "show", "link")
    assert shown.exit_code == 3 and "SECRET" not in shown.output
    assert "SECRET" not in invoke("kb", "search", "secret").output
    # the folder itself a symlink: refused
    other = tmp_path / "elsewhere"
    other.mkdir()
    os.rename(store_dir / "kb", tmp_path / "moved")
    os.symlink(other, store_dir / "kb")
    result = invoke("kb", "list")
    assert result.exit_code == 4 and "kb: is a symlink" in result.output
    assert invoke("kb", "add", "New").exit_code == 4
    assert list(other.iterdir()) == []


def test_ticket_comment_links_an_article_and_show_suggests(invoke, store_dir: Path, acme: str) -> None:
    add(invoke, "Reset the SSO configuration", "--slug", "reset-sso", "--tag", "sso", "--tag", "login",
        "--audience", "customer", "-m", "When login loops after an SSO change, reset the SSO configuration.")
    add(invoke, "Export reports to Excel", "--slug", "excel", "-m", "Reports export as xlsx from the menu.")
    add(invoke, "无法登录怎么办", "--slug", "login-cn", "-m", "用户无法登录时，请检查单点登录配置。")
    tid = ok(invoke("ticket", "open", acme, "SSO login loops", "-m", "Login loops since the SSO update")).strip()
    shown = ok(invoke("ticket", "show", tid))
    block = shown.split("Suggested articles", 1)[1]
    assert block.splitlines()[1].split()[0] == "reset-sso" and "excel" not in block
    data = json.loads(ok(invoke("ticket", "show", tid, "--format", "json")))
    assert [a["slug"] for a in data["suggested_articles"]][0] == "reset-sso"
    assert data["linked_articles"] == []

    tid2 = ok(invoke("ticket", "open", acme, "客户无法登录", "-m", "登录页面报错")).strip()
    data2 = json.loads(ok(invoke("ticket", "show", tid2, "--format", "json")))
    assert data2["suggested_articles"][0]["slug"] == "login-cn"

    # an internal article only in an internal note
    result = invoke("ticket", "comment", tid, "--kb", "login-cn")
    assert result.exit_code == 4 and "--internal" in result.output
    ok(invoke("ticket", "comment", tid, "--kb", "reset"))
    assert commits(store_dir)[0] == f"Comment on {tid} of Acme Corp"
    data = json.loads(ok(invoke("ticket", "show", tid, "--format", "json")))
    assert data["linked_articles"] == ["reset-sso"]
    assert data["comments"][-1]["text"] == "Knowledge base: Reset the SSO configuration"
    assert "reset-sso" not in [a["slug"] for a in data["suggested_articles"]]
    assert "[kb/reset-sso.md]" in ok(invoke("ticket", "show", tid))
    assert invoke("ticket", "comment", tid, "--kb", "nope").exit_code == 3
    assert invoke("ticket", "comment", tid).exit_code == 4  # neither text nor article
    assert invoke("check").exit_code == 0


def test_service_report_articles_and_gaps(invoke, acme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add(invoke, "Reset SSO", "--slug", "reset-sso", "--audience", "customer", "-m", "steps")
    add(invoke, "Excel export", "--slug", "excel", "--audience", "customer", "-m", "steps")
    add(invoke, "Unused", "--slug", "unused", "-m", "never linked")
    monkeypatch.setenv("CRM_NOW", "2026-11-20T09:00:00+08:00")
    t1 = ok(invoke("ticket", "open", acme, "SSO 1", "-c", "bug")).strip()
    t2 = ok(invoke("ticket", "open", acme, "SSO 2", "-c", "bug")).strip()
    t3 = ok(invoke("ticket", "open", acme, "Export", "-c", "question")).strip()
    ok(invoke("ticket", "open", acme, "Refund", "-c", "complaint"))
    ok(invoke("ticket", "open", acme, "Feature", "-c", "request"))
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")
    for tid, slug in ((t1, "reset-sso"), (t2, "reset-sso"), (t3, "excel"), (t3, "reset-sso")):
        ok(invoke("ticket", "comment", tid, "--kb", slug))
    ok(invoke("ticket", "close", t1, "-r", "reset"))
    ok(invoke("ticket", "close", t3, "-r", "exported"))
    report = json.loads(ok(invoke("report", "service", "--format", "json", "--section", "kb_articles",
                                  "--section", "kb_gaps")))
    sections = {s["key"]: s["rows"] for s in report["sections"]}
    # by hand: reset-sso linked by t1 (closed), t2 (open), t3 (closed); excel by t3 (closed); unused by none
    assert [(r["article"], r["tickets"], r["resolved"]) for r in sections["kb_articles"]] == \
        [("reset-sso", 3, 2), ("excel", 1, 1), ("unused", 0, 0)]
    assert [(r["category"], r["tickets"], r["open"]) for r in sections["kb_gaps"]] == \
        [("complaint", 1, 1), ("request", 1, 1)]


def test_through_the_installed_entry_point(crm: Crm, store_dir: Path) -> None:
    result = crm("kb", "add", "Reset SSO", "--tag", "sso", "-m", "steps")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "reset-sso"
    result = crm("kb", "search", "SSO")
    assert result.returncode == 0 and "reset-sso" in result.stdout
    result = crm("kb", "show", "zzz")
    assert result.returncode == 3 and result.stderr.startswith("crm: error: no article 'zzz'")
    assert "Traceback" not in result.stderr
