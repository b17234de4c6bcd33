"""Mail merge through the real entry point: crm mail CAMPAIGN --template FILE (dry run, .eml, mbox, --log)."""
from __future__ import annotations

import email
import email.policy
import json
import mailbox
from pathlib import Path

import pytest

from crmcli import yamlio
from tests.conftest import Crm, commits, git, snapshot

TEMPLATE = ("Subject: {{ campaign.title }} for {{ customer.name }}\n"
            "Reply-To: events@example.com\n"
            "\n"
            "Dear {{ contact.name }},\n"
            "\n"
            "{% if contact.title is defined %}As {{ contact.title }}, you{% else %}You{% endif %} are invited.\n"
            "Your account: {{ customer.id }} ({{ customer.extra.erp_id | default('no ERP id') }})\n")


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def salon(invoke, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")
    ok(invoke("campaign", "add", "salon", "--kind", "event", "--title", "Autumn salon"))
    people = {
        "acme": ok(invoke("customer", "add", "Acme Corp", "--contact", "Jane Doe <jane@acme.example>",
                          "--set", "erp_id=4711")).strip(),
        "solo": ok(invoke("customer", "add", "Solo Person", "--kind", "person", "--email", "solo@example.com")).strip(),
        "nomail": ok(invoke("customer", "add", "No Mail Ltd")).strip(),
        "gone": ok(invoke("customer", "add", "Gone Ltd", "--tag", "unsubscribed",
                          "--contact", "Al <al@gone.example>")).strip(),
        "zh": ok(invoke("customer", "add", "基石科技", "--contact", "李娜 <li.na@example.cn>",
                        "--set", "language=zh")).strip(),
    }
    ok(invoke("campaign", "member", "salon", *people.values()))
    (store_dir / "invite.txt").write_text(TEMPLATE, encoding="utf-8")
    (store_dir / "invite.zh.txt").write_text("Subject: 邀请：{{ campaign.title }}\n\n{{ contact.name }}，您好！\n",
                                             encoding="utf-8")
    return people


def read(path: Path) -> email.message.EmailMessage:
    """An .eml as a mail client reads it (crm writes them with CRLF line ends, as RFC 5322 says)."""
    data = path.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)  # type: ignore


def test_dry_run_renders_every_message_and_writes_nothing(crm: Crm, store_dir: Path, salon: dict) -> None:
    before = snapshot(store_dir)
    result = crm("mail", "salon", "--template", "invite.txt", "--dry-run", "-f", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["customer"]: r for r in json.loads(result.stdout)}
    assert rows[salon["acme"]]["subject"] == "Autumn salon for Acme Corp"
    assert rows[salon["acme"]]["to"] == "jane@acme.example"
    assert rows[salon["solo"]]["to"] == "solo@example.com"
    assert rows[salon["zh"]]["subject"] == "邀请：Autumn salon"
    assert rows[salon["nomail"]]["status"] == "skipped: no email address"
    assert rows[salon["gone"]]["status"] == "skipped: do not contact"
    assert "Would write 3 messages; 2 skipped" in result.stderr
    assert snapshot(store_dir) == before


def test_eml_files_one_per_member_personalized(invoke, store_dir: Path, salon: dict) -> None:
    before = commits(store_dir)
    ok(invoke("mail", "salon", "-t", "invite.txt", "--out", "outbox", "--from", "Events <events@example.com>"))
    files = sorted(p.name for p in (store_dir / "outbox").iterdir())
    assert files == sorted(f"{salon[k]}.eml" for k in ("acme", "solo", "zh"))
    acme = read(store_dir / "outbox" / f"{salon['acme']}.eml")
    assert acme["To"] == "Jane Doe <jane@acme.example>" and acme["From"] == "Events <events@example.com>"
    assert acme["Subject"] == "Autumn salon for Acme Corp" and acme["Reply-To"] == "events@example.com"
    assert acme["X-Crm-Campaign"] == "salon" and acme["Message-ID"].endswith("@example.com>")
    assert acme.get_content() == (f"Dear Jane Doe,\n\nYou are invited.\nYour account: {salon['acme']} (4711)\n")
    solo = read(store_dir / "outbox" / f"{salon['solo']}.eml")
    assert "Your account: " + salon["solo"] + " (no ERP id)" in solo.get_content()
    zh = read(store_dir / "outbox" / f"{salon['zh']}.eml")
    assert zh["Subject"] == "邀请：Autumn salon" and zh.get_content() == "李娜，您好！\n"
    assert commits(store_dir) == before  # written for the mail client; nothing logged without --log


def test_mbox_with_log_records_each_email_in_one_commit(invoke, store_dir: Path, salon: dict) -> None:
    before = commits(store_dir)
    ok(invoke("mail", "salon", "-t", "invite.txt", "--mbox", "salon.mbox", "--log"))
    box = mailbox.mbox(str(store_dir / "salon.mbox"))
    assert sorted(m["X-Crm-Customer"] for m in box) == sorted(salon[k] for k in ("acme", "solo", "zh"))
    assert commits(store_dir) == ["Mail campaign salon: 3 messages", *before]
    acme = salon["acme"]
    events = yamlio.loads((store_dir / "customers" / acme[:2] / acme / "journal" / "2026.yaml").read_text("utf-8"))
    assert events[-2] == {"at": "2026-11-20T10:00:00+08:00", "kind": "email", "by": "Alice Example",
                          "contact": "Jane Doe", "direction": "out", "summary": "Autumn salon for Acme Corp"}
    assert events[-1]["kind"] == "campaign.response" and events[-1]["response"] == "sent"
    report = json.loads(ok(invoke("report", "campaigns", "--section", "responses", "-f", "json")))
    assert report["sections"][0]["rows"][0]["sent"] == 3
    assert not git(store_dir, "status", "--porcelain", "customers")


@pytest.mark.parametrize("template, words", [
    ("Subject: Hi {{ contact.nickname }}\n\nBody\n", "invite.txt: customer "),
    ("Subject: Hi\n\n{{ customer.__class__.__mro__ }}\n", "__class__"),
    ("Subject: Hi\n\nLine one\n{% if %}\n", "invite.txt:4: "),
    ("Hello there\n", "invite.txt:1: a template starts with 'Subject: ...'"),
    ("From: me\n\nBody\n", "invite.txt:1: header 'From: me'"),
])
def test_a_bad_template_writes_nothing_and_says_where(invoke, store_dir: Path, salon: dict, template: str,
                                                      words: str) -> None:
    (store_dir / "invite.txt").write_text(template, encoding="utf-8")
    before = snapshot(store_dir)
    result = invoke("mail", "salon", "-t", "invite.txt", "--out", "outbox", "--log")
    assert result.exit_code == 4, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not (store_dir / "outbox").exists() and snapshot(store_dir) == before


def test_mail_needs_one_destination(invoke, salon: dict) -> None:
    result = invoke("mail", "salon", "-t", "invite.txt")
    assert result.exit_code == 2 and "--out DIR" in result.output
    result = invoke("mail", "nope", "-t", "invite.txt", "--dry-run")
    assert result.exit_code == 3 and "no campaign 'nope'" in result.output
