"""Mail merge through the real entry point: crm mail CAMPAIGN --template FILE (dry run, .eml, mbox, --log)."""
from __future__ import annotations

import base64
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


# -- sending through SMTP: a small real SMTP server on localhost ---------------------------------------------
class SmtpServer:
    """Speaks enough SMTP for smtplib; keeps what it accepted; refuses the messages numbered in ``refuse``."""

    def __init__(self) -> None:
        import socketserver
        import threading

        self.accepted: list[email.message.Message] = []
        self.logins: list[tuple[str, str]] = []  # (user, password) of each AUTH PLAIN
        self.refuse: set[int] = set()
        self.seen = 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 test ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.strip().split(b" ")[0].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
                    elif verb == b"AUTH":
                        _, user, password = base64.b64decode(line.split()[2]).decode("utf-8").split("\0")
                        outer.logins.append((user, password))
                        self.wfile.write(b"235 accepted\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        outer.seen += 1
                        if outer.seen in outer.refuse:
                            self.wfile.write(b"550 mailbox unavailable\r\n")
                        else:
                            outer.accepted.append(email.message_from_bytes(data))
                            self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp(store_dir: Path, salon: dict):
    server = SmtpServer()
    with (store_dir / "crm.yaml").open("a", encoding="utf-8") as f:
        f.write(f"mail:\n  from: Events <events@example.com>\n  smtp: {{host: 127.0.0.1, port: {server.port}, "
                "security: none, per_minute: 60000, batch: 2}\n")
    git(store_dir, "commit", "-qam", "SMTP settings")
    yield server
    server.close()


def sent_responses(store_dir: Path, cid: str) -> int:
    events = yamlio.loads((store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml").read_text("utf-8"))
    return sum(1 for e in events if e.get("kind") == "campaign.response" and e.get("response") == "sent")


def test_send_needs_a_dry_run_then_sends_each_once_in_batches(invoke, store_dir: Path, salon: dict,
                                                              smtp: SmtpServer) -> None:
    first = invoke("mail", "salon", "-t", "invite.txt", "--send")
    assert first.exit_code == 2 and "--dry-run first" in first.output and not smtp.accepted
    dry = json.loads(ok(invoke("mail", "salon", "-t", "invite.txt", "--send", "--dry-run", "-f", "json")))
    assert {r["status"] for r in dry if r["to"]} == {"would send"} and not smtp.accepted
    before = commits(store_dir)
    ok(invoke("mail", "salon", "-t", "invite.txt", "--send"))
    wanted = sorted(salon[k] for k in ("acme", "solo", "zh"))
    assert sorted(m["X-Crm-Customer"] for m in smtp.accepted) == wanted
    assert commits(store_dir)[:2] == ["Mail campaign salon: 1 message", "Mail campaign salon: 2 messages"]
    assert len(commits(store_dir)) == len(before) + 2  # batch: 2 -> two commits for three messages
    again = invoke("mail", "salon", "-t", "invite.txt", "--send", "-f", "json")
    assert again.exit_code == 0 and len(smtp.accepted) == 3
    assert {r["status"] for r in json.loads(again.stdout) if r["to"]} == {"sent before"}
    assert len(commits(store_dir)) == len(before) + 2
    assert all(sent_responses(store_dir, cid) == 1 for cid in wanted)


def test_a_refusal_stops_and_the_next_run_sends_only_the_rest(invoke, store_dir: Path, salon: dict,
                                                              smtp: SmtpServer) -> None:
    ok(invoke("mail", "salon", "-t", "invite.txt", "--dry-run"))
    smtp.refuse = {2}
    failed = invoke("mail", "salon", "-t", "invite.txt", "--send")
    assert failed.exit_code == 6 and "550" in failed.output and "run the same command again" in failed.output
    assert len(smtp.accepted) == 1
    first = smtp.accepted[0]["X-Crm-Customer"]
    assert sent_responses(store_dir, first) == 1 and not git(store_dir, "status", "--porcelain", "customers")
    ok(invoke("mail", "salon", "-t", "invite.txt", "--send"))
    customers = [m["X-Crm-Customer"] for m in smtp.accepted]
    assert len(customers) == len(set(customers)) == 3  # nobody mailed twice
    assert all(sent_responses(store_dir, c) == 1 for c in customers)


def test_smtp_passwords_come_from_the_environment_only(invoke, store_dir: Path, salon: dict,
                                                       smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (store_dir / "crm.yaml").read_text(encoding="utf-8")
    (store_dir / "crm.yaml").write_text(text.replace("batch: 2}", "batch: 2, user: events, password: hunter2}"),
                                        encoding="utf-8")
    result = invoke("mail", "salon", "-t", "invite.txt", "--send", "--dry-run")
    assert result.exit_code == 2 and "never keep a password in the repository" in result.output
    (store_dir / "crm.yaml").write_text(text.replace("batch: 2}", "batch: 2, user: events}"), encoding="utf-8")
    monkeypatch.delenv("CRM_SMTP_PASSWORD", raising=False)
    ok(invoke("mail", "salon", "-t", "invite.txt", "--dry-run"))
    result = invoke("mail", "salon", "-t", "invite.txt", "--send")
    assert result.exit_code == 2 and "export CRM_SMTP_PASSWORD" in result.output and not smtp.accepted


def test_smtp_password_from_a_keyring_else_one_line_saying_why_not(crm: Crm, store_dir: Path, salon: dict,
                                                                   smtp: SmtpServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from keyrings.alt.file import PlaintextKeyring

    text = (store_dir / "crm.yaml").read_text(encoding="utf-8")
    (store_dir / "crm.yaml").write_text(text.replace("batch: 2}", "batch: 2, user: events}"), encoding="utf-8")
    git(store_dir, "commit", "-qam", "SMTP user")
    monkeypatch.delenv("CRM_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    assert crm("mail", "salon", "-t", "invite.txt", "--dry-run").returncode == 0
    failed = crm("mail", "salon", "-t", "invite.txt", "--send")
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert "keyring library has no usable backend" in failed.stderr and "export CRM_SMTP_PASSWORD" in failed.stderr
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    missing = crm("mail", "salon", "-t", "invite.txt", "--send")
    assert missing.returncode == 2 and "nor in the keyring (service crmcli-smtp)" in missing.stderr
    assert "keyring set crmcli-smtp events" in missing.stderr and not smtp.logins
    PlaintextKeyring().set_password("crmcli-smtp", "events", "s3cret from the keyring")
    sent = crm("mail", "salon", "-t", "invite.txt", "--send")
    assert sent.returncode == 0, sent.stderr
    assert smtp.logins == [("events", "s3cret from the keyring")] and len(smtp.accepted) == 3
    assert "s3cret" not in git(store_dir, "log", "-p", "--all")  # never in the repository
    monkeypatch.setenv("CRM_SMTP_PASSWORD", "from the environment")  # the environment comes first
    (store_dir / "again.txt").write_text(TEMPLATE, encoding="utf-8")
    assert crm("mail", "salon", "-t", "again.txt", "--dry-run").returncode == 0
    assert crm("mail", "salon", "-t", "again.txt", "--send").returncode == 0
    assert smtp.logins[-1] == ("events", "from the environment")
