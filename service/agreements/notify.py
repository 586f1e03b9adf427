"""How signers hear from us: links and one-time codes, by e-mail (SMTP) or the development outbox.

Messages are queued on the session and go out only once its transaction has committed, so a
rolled-back request never sends a code or a link that the database does not know.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlmodel import Session

from service.config import Settings, get_settings

log = logging.getLogger(__name__)
_QUEUE_KEY = "agreements.outgoing"
_LISTENING = "agreements.listening"


@dataclass(frozen=True)
class Message:
    """One message to one signer. ``to`` is an e-mail address or a phone number (or None: no contact)."""

    to: str | None
    subject: str
    body: str
    purpose: str  # link | code | declined | voided | completed
    document_id: int
    party: str
    link: str | None = None
    code: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


class Notifier(Protocol):
    def send(self, message: Message) -> None: ...


class SmsNotifier(Protocol):
    """For later: a text-message gateway. Nothing implements it yet."""

    def send_sms(self, phone: str, text: str) -> None: ...


class OutboxNotifier:
    """Writes each message as a JSON file under ``<data>/outbox/`` (development and tests)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.json"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(message), fh, ensure_ascii=False, indent=2)
        os.replace(tmp, self.directory / name)  # readers never see half a message


class SmtpNotifier:
    """Sends e-mail through the configured SMTP server; messages without an address are skipped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Message) -> None:
        if not message.to or "@" not in message.to:
            log.info("no e-mail address for %s of document %s", message.party, message.document_id)
            return
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.smtp_from, message.to, message.subject
        mail.set_content(message.body)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(mail)


def get_notifier(settings: Settings | None = None) -> Notifier:
    settings = settings or get_settings()
    if settings.notifier == "smtp":
        return SmtpNotifier(settings)
    if settings.notifier != "outbox":
        raise ValueError(f"unknown notifier {settings.notifier!r} (outbox | smtp)")
    return OutboxNotifier(settings.outbox_dir)


def queue(session: Session, message: Message) -> None:
    """Send ``message`` once the session's transaction commits; drop it if it rolls back."""
    if not session.info.get(_LISTENING):
        event.listen(session, "after_commit", _flush_outgoing)
        event.listen(session, "after_rollback", _drop_outgoing)
        session.info[_LISTENING] = True
    session.info.setdefault(_QUEUE_KEY, []).append(message)


def _flush_outgoing(session: Session) -> None:
    pending: list[Message] = session.info.pop(_QUEUE_KEY, [])
    if not pending:
        return
    notifier = get_notifier()
    for message in pending:
        try:
            notifier.send(message)
        except Exception:  # the database change stands; the office can resend the link or code
            log.exception(
                "could not send %s to %s of document %s", message.purpose, message.party, message.document_id
            )


def _drop_outgoing(session: Session) -> None:
    session.info.pop(_QUEUE_KEY, None)
