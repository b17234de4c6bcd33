"""Mail merge: one personalized message per campaign member from a Jinja2 template, as .eml files or an mbox.

The template is a small email: header lines (``Subject:``, optionally ``Reply-To:``), a blank line, the body;
both are Jinja2 templates rendered in a *sandboxed* environment (a template cannot reach Python internals)
with undefined names an error, so a typo never mails ``Dear ,``. A customer whose ``language`` (or
``extra.language``) is ``zh`` gets ``invite.zh.txt`` beside ``invite.txt`` when that file exists.
"""
from __future__ import annotations

import email.policy
import email.utils
import mailbox
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from crmcli.errors import InvalidRecord, UsageError
from crmcli.store.files import atomic_write

HEADERS = ("subject", "reply-to")


@dataclass
class Template:
    path: Path
    headers: dict[str, Any]  # lower-case header name -> compiled template
    body: Any


@dataclass
class Message:
    customer: str
    name: str
    to: str
    subject: str
    message: EmailMessage


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def load_template(path: Path) -> Template:
    """Parse and compile a template file; a syntax error names ``FILE:line``."""
    from jinja2 import TemplateSyntaxError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--template {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InvalidRecord(f"{path}: not UTF-8 text; save the template as UTF-8") from None
    head, sep, body = text.replace("\r\n", "\n").partition("\n\n")
    if not sep:
        raise InvalidRecord(f"{path}:1: a template starts with 'Subject: ...', then a blank line, then the body")
    env = _environment()
    headers: dict[str, Any] = {}
    for number, line in enumerate(head.split("\n"), 1):
        name, colon, value = line.partition(":")
        if not colon or name.strip().lower() not in HEADERS:
            raise InvalidRecord(f"{path}:{number}: header {line.strip()!r}: use Subject: and Reply-To: "
                                "before the blank line that starts the body")
        try:
            headers[name.strip().lower()] = env.from_string(value.strip())
        except TemplateSyntaxError as exc:
            raise InvalidRecord(f"{path}:{number}: {exc.message}") from None
    if "subject" not in headers:
        raise InvalidRecord(f"{path}:1: the template has no Subject: line")
    try:
        compiled = env.from_string(body)
    except TemplateSyntaxError as exc:
        raise InvalidRecord(f"{path}:{head.count(chr(10)) + 2 + (exc.lineno or 1)}: {exc.message}") from None
    return Template(path, headers, compiled)


def for_language(path: Path, language: str | None) -> Path:
    """``invite.zh.txt`` for ``invite.txt`` and language ``zh`` when it exists, else ``path``."""
    if language:
        candidate = path.with_name(f"{path.stem}.{language.strip().lower()}{path.suffix}")
        if candidate.is_file():
            return candidate
    return path


def render(template: Template, values: dict[str, Any], where: str) -> tuple[dict[str, str], str]:
    """(headers, body) for one member; an undefined field or a forbidden operation names the template."""
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError, UndefinedError

    try:
        headers = {k: " ".join(t.render(values).split()) for k, t in template.headers.items()}
        body = template.body.render(values)
    except UndefinedError as exc:
        raise InvalidRecord(f"{template.path}: {where}: {exc.message}; write {{{{ x | default('') }}}} for a field "
                            "some customers lack") from None
    except SecurityError as exc:
        raise InvalidRecord(f"{template.path}: {where}: not allowed in a template ({exc})") from None
    except TemplateError as exc:
        raise InvalidRecord(f"{template.path}: {where}: {exc}") from None
    return headers, body


def build(sender: str, to: str, headers: dict[str, str], body: str, *, now: datetime,
          extra: dict[str, str]) -> EmailMessage:
    """A text/plain UTF-8 message with Date and a Message-ID."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = headers["subject"]
    if headers.get("reply-to"):
        msg["Reply-To"] = headers["reply-to"]
    msg["Date"] = email.utils.format_datetime(now)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    for key, value in extra.items():
        msg[key] = value
    msg.set_content(body)
    return msg


def write_eml(folder: Path, messages: list[Message]) -> list[Path]:
    """One ``<customer-id>.eml`` per message in ``folder`` (made if missing); returns the paths."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {folder}: cannot make the folder ({exc.strerror or exc})") from None
    paths = []
    for m in messages:
        path = folder / f"{m.customer}.eml"
        atomic_write(path, m.message.as_bytes(), sync=False)
        paths.append(path)
    return paths


def write_mbox(path: Path, messages: list[Message]) -> None:
    """All messages in one mbox file, written whole (a temp file renamed over ``path``)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".mbox-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
        box = mailbox.mbox(tmp, create=True)
        try:
            for m in messages:
                box.add(mailbox.mboxMessage(m.message.as_bytes()))
            box.flush()
        finally:
            box.close()
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"--mbox {path}: cannot write it ({exc.strerror or exc})") from None
