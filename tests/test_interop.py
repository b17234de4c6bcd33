"""vCard, iCalendar and email interop."""
from __future__ import annotations

import json
import mailbox
from email.message import EmailMessage
from pathlib import Path

from crmcli.io import vcard
from crmcli.store.location import open_store
from tests.conftest import commits, git


def _customers(root: Path) -> dict[str, dict]:
    return {c.name: c.data for c in open_store(str(root)).iter_customers()}


def test_vcard_export_escapes_folds_and_uses_crlf(store_dir: Path, invoke) -> None:
    org = "深圳市基石协作科技有限公司, 研发中心; 第二分部" * 2
    r = invoke("customer", "add", org, "--contact", "李娜 <li.na@example.cn>, 13800138000")
    assert r.exit_code == 0, r.output
    assert invoke("contact", "add", r.stdout.strip(), "Jane Doe", "--title", "CTO").exit_code == 0
    out = store_dir.parent / "contacts.vcf"
    r = invoke("export", "--kind", "contacts", "-o", str(out))
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"END:VCARD\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # folded
    text = raw.decode("utf-8")
    assert "FN:李娜\r\nN:李;娜;;;\r\n" in text and "N:Doe;Jane;;;" in text and "TITLE:CTO" in text
    assert "EMAIL;TYPE=INTERNET:li.na@example.cn" in text and "TEL;TYPE=VOICE:13800138000" in text
    unfolded = text.replace("\r\n ", "")
    assert "ORG:" + org.replace(",", "\\,").replace(";", "\\;") + "\r\n" in unfolded
    cards = vcard.parse(text)
    assert cards[0]["customer"] == org and cards[0]["name"] == "李娜"


def test_vcard_import_chinese_names_into_an_empty_store(store_dir: Path, invoke) -> None:
    text = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:王芳\r\nN:王;芳;;;\r\nORG:北京云图数据有限公司;销售部\r\n"
            "TITLE:销售总监\r\nEMAIL;TYPE=work:wang.fang@yuntu.exa\r\n mple\r\n"
            "TEL;VALUE=uri;TYPE=cell:tel:+86-138-0013-8000\r\n"
            "END:VCARD\r\n"
            "BEGIN:VCARD\nVERSION:3.0\nN:Doe;John;;;\nFN:John Doe\nEMAIL:john@doe.example\nEND:VCARD\n"
            "BEGIN:VCARD\nVERSION:3.0\nFN:张伟\nORG:北京云图数据有限公司\nEMAIL:zhang@yuntu.example\nEND:VCARD\n")
    path = store_dir.parent / "contacts.vcf"
    path.write_text(text, encoding="utf-8")
    r = invoke("import", "../contacts.vcf")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Import 3 contacts from contacts.vcf"
    rows = _customers(store_dir)
    yuntu = rows["北京云图数据有限公司"]
    assert yuntu["contacts"] == [
        {"name": "王芳", "title": "销售总监", "email": "wang.fang@yuntu.example", "phone": "+86-138-0013-8000",
         "primary": True},
        {"name": "张伟", "email": "zhang@yuntu.example"}]
    assert rows["John Doe"]["kind"] == "person" and rows["John Doe"]["email"] == "john@doe.example"
    head = git(store_dir, "rev-parse", "HEAD")
    r = invoke("import", "../contacts.vcf")
    assert r.exit_code == 0 and "0 created" in r.stderr
    assert git(store_dir, "rev-parse", "HEAD") == head
    bad = store_dir.parent / "bad.vcf"
    bad.write_text("BEGIN:VCARD\nFN:Bad\nEMAIL:bad@\nEND:VCARD\n", encoding="utf-8")
    r = invoke("import", "../bad.vcf")
    assert r.exit_code == 4 and "bad.vcf:card 1, column email: 'bad@' is not an email address" in r.stderr


def test_ics_agenda_tasks_and_renewals(store_dir: Path, invoke, monkeypatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")
    cid = invoke("customer", "add", "Acme Corp").stdout.strip()
    assert invoke("task", "add", cid, "Send the quote, with prices", "--due", "2026-11-27").exit_code == 0
    assert invoke("task", "add", cid, "Call back", "--due", "2026-11-21 09:00").exit_code == 0
    done = invoke("task", "add", cid, "Old one").stdout.strip()
    assert invoke("task", "done", done).exit_code == 0
    assert invoke("contract", "add", cid, "--value", "100000", "--start", "2026-01-01", "--end", "2026-12-31",
                  "--renew-notice", "60d").exit_code == 0
    out = store_dir.parent / "agenda.ics"
    r = invoke("export", "--kind", "tasks", "-o", str(out))
    assert r.exit_code == 0, r.output
    raw = out.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"") and all(len(x) <= 75 for x in raw.split(b"\r\n"))
    text = raw.decode("utf-8").replace("\r\n ", "")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VTODO") == 2 and "Old one" not in text
    assert "DUE;VALUE=DATE:20261127" in text and "DUE:20261121T010000Z" in text
    assert "SUMMARY:Send the quote\\, with prices (Acme Corp)" in text
    assert "BEGIN:VEVENT" in text and "DTSTART;VALUE=DATE:20261101" in text and "Renewal due: Acme Corp" in text
    first = out.read_bytes()
    assert invoke("export", "--kind", "tasks", "-o", str(out)).exit_code == 0
    assert out.read_bytes() == first  # stable UIDs and stamps
    assert f"UID:{cid}/task-" in text


def _mail(sender: str, to: str, subject: str, date: str = "Fri, 20 Nov 2026 14:30:00 +0800") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, to, subject, date
    msg["Message-ID"] = f"<{abs(hash(subject))}@example>"
    msg.set_content("Hello\n")
    return msg


def test_log_eml_finds_customer_and_direction(store_dir: Path, invoke) -> None:
    cid = invoke("customer", "add", "Acme Corp", "--contact", "Jane Doe <jane@acme.example>").stdout.strip()
    path = store_dir.parent / "in.eml"
    path.write_bytes(bytes(_mail("Jane Doe <JANE@acme.example>", "Alice <alice@example.com>", "Quote request 报价")))
    r = invoke("log", "--eml", str(path))
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == f"Log email with Acme Corp ({cid})"
    journal = (store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml").read_text(encoding="utf-8")
    assert journal == ("- {at: '2026-11-20T14:30:00+08:00', kind: email, by: Alice Example, contact: Jane Doe, "
                       "direction: in, summary: Quote request 报价}\n")
    out = store_dir.parent / "out.eml"
    out.write_bytes(bytes(_mail("Alice Example <alice@example.com>", "jane@acme.example", "Re: Quote",
                                "Sat, 21 Nov 2026 01:00:00 +0000")))
    assert invoke("log", "--eml", str(out)).exit_code == 0
    journal = (store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml").read_text(encoding="utf-8")
    assert "direction: out, summary: 'Re: Quote'" in journal and "at: '2026-11-21T01:00:00+00:00'" in journal
    r = invoke("log", "--eml", str(out))
    assert r.exit_code == 4 and "already logged" in r.stderr
    stranger = store_dir.parent / "s.eml"
    stranger.write_bytes(bytes(_mail("x@unknown.example", "alice@example.com", "Spam")))
    r = invoke("log", "--eml", str(stranger), "--no-lead")
    assert r.exit_code == 3 and "no customer has the address x@unknown.example" in r.stderr
    cold = store_dir.parent / "cold.eml"
    cold.write_bytes(bytes(_mail("alice@example.com", "nobody@unknown.example", "Cold pitch")))
    r = invoke("log", "--eml", str(cold))  # outgoing to an unknown address: no lead from our own mail
    assert r.exit_code == 3 and "no customer has the address nobody@unknown.example" in r.stderr
    assert invoke("log", "acme").exit_code == 2


def test_log_eml_from_unknown_sender_captures_a_lead(store_dir: Path, invoke) -> None:
    path = store_dir.parent / "lead.eml"
    path.write_bytes(bytes(_mail('"Lin Hua" <Lin.Hua@newco.example>', "alice@example.com", "Pricing for 20 seats")))
    before = len(commits(store_dir))
    r = invoke("log", "--eml", str(path))
    assert r.exit_code == 0, r.output
    assert len(commits(store_dir)) == before + 1  # the lead and the email: one commit
    cid = r.stdout.split("(")[1].split(")")[0]
    assert commits(store_dir)[0] == f"Add lead Lin Hua ({cid}) from an email and log it"
    changed = git(store_dir, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == sorted([f"customers/{cid[:2]}/{cid}/customer.yaml",
                                      f"customers/{cid[:2]}/{cid}/journal/2026.yaml"])
    shown = json.loads(invoke("show", cid, "--format", "json").stdout)
    assert shown["core"]["stage"] == "lead" and shown["core"]["source"] == "email"
    assert shown["core"].get("owner") is None and shown["core"]["kind"] == "person"
    journal = (store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml").read_text(encoding="utf-8")
    assert "kind: email" in journal and "direction: in" in journal and "Pricing for 20 seats" in journal
    # the next email from the same sender is logged to the lead, not a second lead
    again = store_dir.parent / "again.eml"
    again.write_bytes(bytes(_mail("lin.hua@newco.example", "alice@example.com", "Re: Pricing",
                                  "Sat, 21 Nov 2026 09:00:00 +0800")))
    r = invoke("log", "--eml", str(again))
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == f"Log email with Lin Hua ({cid})"
    assert len(json.loads(invoke("customer", "list", "--format", "json").stdout)) == 1
    # the lead is unowned, so crm lead assign can give it an owner
    (store_dir / "crm.yaml").write_text((store_dir / "crm.yaml").read_text(encoding="utf-8")
                                        + "leads:\n  assign:\n  - owner: bob\n", encoding="utf-8")
    git(store_dir, "commit", "-qam", "rules")
    r = invoke("lead", "assign", "--format", "json")
    assert r.exit_code == 0, r.output
    assert [(x["customer"], x["owner"]) for x in json.loads(r.stdout)] == [(cid, "bob")]


def test_log_eml_lead_name_taken_is_refused(store_dir: Path, invoke) -> None:
    invoke("customer", "add", "Lin Hua", "--kind", "person", "--email", "lin@old.example")
    path = store_dir.parent / "lead.eml"
    path.write_bytes(bytes(_mail("Lin Hua <lin@new.example>", "alice@example.com", "Hello")))
    before = commits(store_dir)
    r = invoke("log", "--eml", str(path))
    assert r.exit_code == 4, r.output
    assert "'Lin Hua' is a customer's name" in r.stderr and "crm contact add" in r.stderr
    assert commits(store_dir) == before


def test_log_eml_without_a_sender_address_says_which_header(store_dir: Path, invoke) -> None:
    path = store_dir.parent / "nobody.eml"
    path.write_bytes(bytes(_mail("nobody", "alice@example.com", "Hello")))
    before = commits(store_dir)
    r = invoke("log", "--eml", str(path))
    assert r.exit_code == 4 and "nobody.eml: its From header 'nobody' has no email address" in r.stderr, r.stderr
    path.write_bytes(b"Subject: no sender at all\n\nbody\n")
    r = invoke("log", "--eml", str(path))
    assert r.exit_code == 4 and "nobody.eml: no From header" in r.stderr, r.stderr
    assert commits(store_dir) == before


def test_mbox_import(store_dir: Path, invoke) -> None:
    cid = invoke("customer", "add", "Acme Corp", "--email", "info@acme.example").stdout.strip()
    path = store_dir.parent / "mail.mbox"
    box = mailbox.mbox(str(path))
    for msg in (_mail("info@acme.example", "alice@example.com", "One"),
                _mail("alice@example.com", "info@acme.example", "Two", "Sat, 21 Nov 2026 09:00:00 +0800"),
                _mail("nobody@else.example", "alice@example.com", "Unrelated")):
        box.add(msg)
    box.close()
    r = invoke("import", "../mail.mbox")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Import 2 emails from mail.mbox"
    assert "mail.mbox:message 3: no customer has nobody@else.example" in r.stderr
    head = git(store_dir, "rev-parse", "HEAD")
    r = invoke("import", "../mail.mbox")
    assert r.exit_code == 0 and "0 created" in r.stderr
    assert git(store_dir, "rev-parse", "HEAD") == head
    timeline = invoke("timeline", cid, "--format", "csv").output
    assert "One" in timeline and "Two" in timeline
