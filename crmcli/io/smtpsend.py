"""Sending mail-merge messages through SMTP: settings from ``mail: smtp:`` in crm.yaml, the password from the
environment or a keyring, a rate limit, and a resumable log so a crash mid-send never sends a message twice.

The password is never read from the repository: first the environment variable ``password_env``
(``CRM_SMTP_PASSWORD``), else the system keyring through the optional ``keyring`` library (service
``keyring_service``, default ``crmcli-smtp``; the SMTP user as the user name). A missing library or a keyring
without a usable backend is said in one line.

The log (``<git-dir>/crm/mail/CAMPAIGN--TEMPLATE.sent``, never in git) gets one line per message the server
accepted, written and synced right after the server said yes and before the next message goes; a run skips
every customer already in it.
"""
from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmcli.errors import EXIT_GIT, CrmError, UsageError

DEFAULT_PASSWORD_ENV = "CRM_SMTP_PASSWORD"
DEFAULT_KEYRING_SERVICE = "crmcli-smtp"


class SendError(CrmError):
    """The SMTP server refused or could not be reached (exit 6, as a remote that refuses); the log says what went."""

    exit_code = EXIT_GIT


@dataclass
class Settings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls, ssl, none
    user: str | None = None
    password_env: str = DEFAULT_PASSWORD_ENV
    per_minute: float = 30.0
    batch: int = 50
    keyring_service: str = DEFAULT_KEYRING_SERVICE

    @classmethod
    def from_config(cls, mail: Any, where: str = "crm.yaml") -> Settings:
        smtp = mail.get("smtp") if isinstance(mail, dict) else None
        if not isinstance(smtp, dict) or not isinstance(smtp.get("host"), str):
            raise UsageError(f"no SMTP server: add mail: smtp: host: ... to {where} (see 'Mail merge' in the "
                             "README), or write .eml files with --out")
        if "password" in smtp:
            raise UsageError(f"{where}: mail smtp password: never keep a password in the repository; remove it "
                             f"and set the environment variable named by password_env ({DEFAULT_PASSWORD_ENV})")
        security = str(smtp.get("security", "ssl" if smtp.get("port") == 465 else "starttls"))
        if security not in ("starttls", "ssl", "none"):
            raise UsageError(f"{where}: mail smtp security {security!r}: use starttls, ssl or none")
        try:
            port, per_minute, batch = int(smtp.get("port", 465 if security == "ssl" else 587)), \
                float(smtp.get("per_minute", 30)), int(smtp.get("batch", 50))
        except (TypeError, ValueError):
            raise UsageError(f"{where}: mail smtp port, per_minute and batch must be numbers") from None
        if per_minute <= 0 or batch < 1:
            raise UsageError(f"{where}: mail smtp per_minute must be above 0 and batch at least 1")
        return cls(smtp["host"], port, security, smtp.get("user"), str(smtp.get("password_env",
                   DEFAULT_PASSWORD_ENV)), per_minute, batch,
                   str(smtp.get("keyring_service") or DEFAULT_KEYRING_SERVICE))

    def password(self) -> str | None:
        """The environment variable ``password_env``, else the keyring's entry (``keyring_service``, user)."""
        if not self.user:
            return None
        value = os.environ.get(self.password_env)
        if value:
            return value
        how = (f"export {self.password_env}=..., or keep it in a keyring: keyring set {self.keyring_service} "
               f"{self.user} (it is never read from the repository)")
        try:
            import keyring
            import keyring.errors
        except ImportError:
            raise UsageError(f"the SMTP password of {self.user} is not set: {how}; the keyring library is not "
                             "installed (pip install keyring)") from None
        try:
            value = keyring.get_password(self.keyring_service, str(self.user))
        except keyring.errors.NoKeyringError:
            raise UsageError(f"the SMTP password of {self.user} is not set: {how}; the keyring library has no "
                             "usable backend here (no desktop keyring or keyrings.alt)") from None
        except keyring.errors.KeyringError as exc:
            raise UsageError(f"the SMTP password of {self.user}: the keyring failed ({exc}); {how}") from None
        if not value:
            raise UsageError(f"the SMTP password of {self.user} is not set, nor in the keyring (service "
                             f"{self.keyring_service}): {how}")
        return value


def read_log(path: Path) -> set[str]:
    """Customer ids already sent (first word of each line)."""
    try:
        return {line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def send_all(settings: Settings, messages: Iterable[Any], log: Path, *,
             on_sent: Callable[[Any], None], sleep: Callable[[float], None] = time.sleep) -> int:
    """Send each message (``.customer``, ``.message``) not yet in ``log``; log and call ``on_sent`` after each.

    Waits ``60 / per_minute`` seconds between messages. Stops at the first refusal with SendError.
    """
    password = settings.password()
    log.parent.mkdir(parents=True, exist_ok=True)
    done = read_log(log)
    todo = [m for m in messages if m.customer not in done]
    if not todo:
        return 0
    sent = 0
    try:
        if settings.security == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=60,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=60)
            if settings.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        with server:
            if settings.user:
                server.login(settings.user, password or "")
            with open(log, "a", encoding="utf-8") as fh:
                for i, m in enumerate(todo):
                    if i:
                        sleep(60.0 / settings.per_minute)
                    server.send_message(m.message)
                    fh.write(f"{m.customer} {m.message['Message-ID']}\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                    sent += 1
                    on_sent(m)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"SMTP {settings.host}:{settings.port}: {exc}; {sent} sent this run (logged in {log}); "
                        "run the same command again to send the rest") from None
    return sent
