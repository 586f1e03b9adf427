"""The audit trail: append-only events per document, each carrying the hash of the one before it.

Editing, reordering or deleting any event breaks the chain from that point on, which
``verify_chain`` (and ``xibu audit verify``) reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import AuditEvent, Document

GENESIS = "0" * 64


class Event(StrEnum):
    CREATED = "created"
    SENT = "sent"
    VIEWED = "viewed"
    CODE_SENT = "code_sent"
    SIGNED = "signed"
    DECLINED = "declined"
    VOIDED = "voided"
    COMPLETED = "completed"
    DOWNLOADED = "downloaded"
    VERIFIED = "verified"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    REPORTED = "reported"  # signing report archived; hash_after is its SHA-256


@dataclass(frozen=True)
class Actor:
    """Who did it, from where: a user, a signer by link, the system, or an anonymous verifier."""

    name: str
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor("system")


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over every field but ``hash`` itself, in a fixed canonical form."""
    body = {
        "document_id": event.document_id,
        "seq": event.seq,
        "event": event.event,
        "at": _utc(event.at).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "hash_before": event.hash_before,
        "hash_after": event.hash_after,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def record(
    session: Session,
    document_id: int,
    event: Event,
    actor: Actor = SYSTEM,
    *,
    hash_before: str | None = None,
    hash_after: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Append one event. Callers hold the document's row lock, so seq numbers cannot collide."""
    last = session.exec(
        select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(col(AuditEvent.seq).desc())
    ).first()
    row = AuditEvent(
        document_id=document_id,
        seq=(last.seq + 1) if last else 1,
        event=event.value,
        at=datetime.now(UTC),
        actor=actor.name[:200],
        ip=(actor.ip or None) and actor.ip[:64],
        user_agent=(actor.user_agent or None) and actor.user_agent[:300],
        hash_before=hash_before,
        hash_after=hash_after,
        detail=detail[:1000] if detail else None,
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    row.hash = event_hash(row)
    session.add(row)
    session.execute(update(Document).where(col(Document.id) == document_id).values(audit_head=row.hash))
    session.flush()
    return row


def events(session: Session, document_id: int) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(col(AuditEvent.seq))
        ).all()
    )


def verify_chain(session: Session, document_id: int) -> list[str]:
    """Problems in one document's chain (Chinese, naming the event); empty when intact."""
    problems: list[str] = []
    prev = GENESIS
    head = session.exec(select(Document.audit_head).where(Document.id == document_id)).first()
    for expected_seq, ev in enumerate(events(session, document_id), start=1):
        if ev.seq != expected_seq:
            problems.append(f"文书{document_id}：第{expected_seq}条事件缺失或顺序被改动（实际序号{ev.seq}）")
        if ev.prev_hash != prev:
            problems.append(f"文书{document_id}：第{ev.seq}条事件与前一条不衔接（被删除、插入或重排）")
        if event_hash(ev) != ev.hash:
            problems.append(f"文书{document_id}：第{ev.seq}条事件内容被改动")
        prev = ev.hash
    if head is not None and head != prev:
        problems.append(f"文书{document_id}：最新事件与文书记录的链头不一致（末尾事件被删除或替换）")
    return problems


def verify_all(session: Session) -> dict[int, list[str]]:
    """Every document's problems; documents whose chain is intact are left out."""
    ids = set(session.exec(select(AuditEvent.document_id).group_by(col(AuditEvent.document_id))).all())
    # A document whose whole trail was deleted still names its chain head.
    ids |= {
        i for i in session.exec(select(Document.id).where(col(Document.audit_head).is_not(None))).all() if i
    }
    found = {doc_id: verify_chain(session, doc_id) for doc_id in sorted(ids)}
    return {k: v for k, v in found.items() if v}


def documents_with_events(session: Session) -> int:
    """How many documents have an audit trail (what ``verify_all`` looked at)."""
    return int(session.exec(select(func.count(func.distinct(AuditEvent.document_id)))).one())


def count(session: Session, document_id: int) -> int:
    return int(session.exec(select(func.count()).where(AuditEvent.document_id == document_id)).one())
