"""Ordered online signing, the office's side: create an agreement's requests, void, resend, re-issue.

The signer's side (view, code, sign, decline) is in :mod:`service.agreements.signer`.

Every function flushes and never commits (the request or CLI command commits once). Whatever
changes a document's signing takes its row lock first (:func:`lock_document`), then re-reads
the state it decides on. A new PDF revision is archived (write-once, by SHA-256) before any row
points to it, so a crash at any step leaves the old state or the new one; an orphan blob is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.agreements import links, notify, workflow
from service.audit import service as audit
from service.audit.service import SYSTEM, Actor, Event
from service.config import get_settings
from service.documents import service as documents
from service.documents.converter import Converter
from service.errors import AppError, Conflict, NotFound
from service.organizations.service import county_office
from storage.archive import Archive
from storage.models import (
    Document,
    Organization,
    Post,
    RequestStatus,
    ServiceTerm,
    SigningRequest,
    Volunteer,
)

KIND = "agreement"


class CodeRejected(AppError):
    """A wrong, expired or missing code. The attempt counter it changed must be committed anyway."""

    status = 400
    code = "code_rejected"


class Locked(AppError):
    status = 423
    code = "locked"


@dataclass(frozen=True)
class IssuedLink:
    """A signing link as handed out once: the token is not stored and cannot be shown again."""

    party: str
    request_id: int
    token: str
    url: str
    expires_at: datetime
    recipient: str | None


@dataclass(frozen=True)
class Created:
    document: Document
    links: list[IssuedLink]


# ---------------------------------------------------------------------------------------------
# Look-ups and the row lock


def lock_document(session: Session, document_id: int) -> Document:
    """Take the document's row lock for the rest of the transaction and return it freshly read.

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks: a no-op UPDATE as the
    transaction's first write takes the database write lock, which serialises the same way.
    """
    stmt = select(Document).where(Document.id == document_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Document).where(col(Document.id) == document_id).values(version=Document.version),
            execution_options={"synchronize_session": False},
        )
    else:
        stmt = stmt.with_for_update()
    doc = session.exec(stmt).first()
    if doc is None:
        raise NotFound(f"文书{document_id}不存在")
    return doc


def requests_of(session: Session, document_id: int) -> list[SigningRequest]:
    """The document's requests in signing order, freshly read (call after the lock)."""
    stmt = (
        select(SigningRequest)
        .where(SigningRequest.document_id == document_id)
        .order_by(col(SigningRequest.position))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(stmt).all())


def party_title(party: str | None) -> str | None:
    return PARTY_TITLES.get(party, party) if party else None


# ---------------------------------------------------------------------------------------------
# Creating agreements


def _parties(session: Session, term: ServiceTerm) -> dict[str, tuple[Organization | None, Volunteer | None]]:
    post = session.get(Post, term.post_id)
    volunteer = session.get(Volunteer, term.volunteer_id)
    assert post is not None and volunteer is not None
    unit = session.get(Organization, post.unit_id)
    return {
        "county_office": (county_office(session, post.league, post.county), None),
        "unit": (unit, None),
        "volunteer": (None, volunteer),
    }


def _default_recipient(org: Organization | None, volunteer: Volunteer | None) -> str | None:
    if volunteer is not None:
        return volunteer.email or volunteer.phone or None
    return None  # organizations have no contact on file: the office passes the link on


def _link_expiry(session: Session, term: ServiceTerm, expires_on: date | None) -> datetime:
    if expires_on is None:
        from storage.models import Cohort

        cohort = session.get(Cohort, term.cohort_id)
        assert cohort is not None
        expires_on = cohort.signing_deadline
    expiry = links.end_of_day(expires_on)
    if expiry <= datetime.now(UTC):
        raise AppError(
            f"签署截止日期{expires_on}已过，请指定新的链接有效期", status=422, code="deadline_passed"
        )
    return expiry


def create_agreement(
    session: Session,
    archive: Archive,
    converter: Converter,
    term_id: int,
    *,
    year: int = 1,
    expires_on: date | None = None,
    recipients: Mapping[str, str] | None = None,
    actor: Actor = SYSTEM,
    reissue_reason: str | None = None,
) -> Created:
    """Issue the agreement of one term and service year, and one request per party in the configured order."""
    term = session.get(ServiceTerm, term_id)
    if term is None:
        raise NotFound(f"服务记录{term_id}不存在")
    expiry = _link_expiry(session, term, expires_on)
    order = workflow.party_order(KIND, get_settings().signing_order)
    parties = _parties(session, term)
    doc = documents.issue_one(
        session, archive, converter, KIND, term_id, year=year, reissue_reason=reissue_reason
    )
    assert doc.id is not None
    doc.signing_state = workflow.PENDING
    audit.record(
        session, doc.id, Event.CREATED, actor, hash_after=doc.current_sha256, detail="三方服务协议，在线签署"
    )
    issued: list[IssuedLink] = []
    for position, party in enumerate(order):
        org, volunteer = parties[party]
        req = SigningRequest(
            document_id=doc.id,
            party=party,
            position=position,
            status=(RequestStatus.OPEN if position == 0 else RequestStatus.WAITING).value,
            organization_id=org.id if org else None,
            volunteer_id=volunteer.id if volunteer else None,
            recipient=(recipients or {}).get(party) or _default_recipient(org, volunteer),
        )
        session.add(req)
        session.flush()
        issued.append(_new_link(session, doc, req, expiry, actor))
    session.flush()
    return Created(doc, issued)


def _new_link(
    session: Session, doc: Document, req: SigningRequest, expiry: datetime, actor: Actor
) -> IssuedLink:
    """A fresh token for ``req`` (any older link dies), sent to its recipient if there is one."""
    assert doc.id is not None and req.id is not None
    token, digest = links.new_token()
    req.token_hash, req.token_expires_at = digest, expiry
    url = links.link_url(get_settings().public_url, token)
    turn = "现在轮到您签署" if req.status == RequestStatus.OPEN.value else "前序签署方完成后即可签署"
    if req.recipient:
        notify.queue(
            session,
            notify.Message(
                to=req.recipient,
                subject=f"请签署{doc.number}",
                body=(
                    f"您好！西部计划《{get_kind(doc.kind).title}》（编号{doc.number}）需要您以"
                    f"{party_title(req.party)}身份签署，{turn}。\n签署链接：{url}\n"
                    f"链接有效期至{expiry.astimezone(links.CHINA):%Y年%m月%d日 %H:%M}（北京时间），仅限本人使用，请勿转发。"
                ),
                purpose="link",
                document_id=doc.id,
                party=req.party,
                link=url,
            ),
        )
    audit.record(
        session,
        doc.id,
        Event.SENT,
        actor,
        detail=f"签署链接：{req.party}，发送至{mask_recipient(req.recipient)}",
    )
    return IssuedLink(req.party, req.id, token, url, expiry, req.recipient)


def mask_recipient(recipient: str | None) -> str:
    if not recipient:
        return "（无联系方式，由项目办转交）"
    if "@" in recipient:
        name, _, host = recipient.partition("@")
        return f"{name[:1]}***@{host}"
    return f"{recipient[:3]}****{recipient[-4:]}" if len(recipient) >= 7 else "****"


def tell_all(
    session: Session, doc: Document, requests: list[SigningRequest], purpose: str, text: str
) -> None:
    assert doc.id is not None
    for r in requests:
        if r.recipient:
            notify.queue(
                session,
                notify.Message(r.recipient, f"{doc.number}：{text[:20]}", text, purpose, doc.id, r.party),
            )


# ---------------------------------------------------------------------------------------------
# The office's side: void, resend, re-issue


def _void_requests(session: Session, doc: Document, reason: str, actor: Actor) -> None:
    assert doc.id is not None
    requests = requests_of(session, doc.id)
    for r in requests:
        if r.status in (RequestStatus.OPEN.value, RequestStatus.WAITING.value):
            r.status = RequestStatus.VOIDED.value
            r.code_hash = None
    doc.signing_state = workflow.VOIDED
    audit.record(session, doc.id, Event.VOIDED, actor, detail=f"原因：{reason}")
    tell_all(
        session,
        doc,
        requests,
        "voided",
        f"《{get_kind(doc.kind).title}》（编号{doc.number}）已作废，原签署链接失效。原因：{reason}",
    )


def _agreement(session: Session, document_id: int) -> Document:
    doc = lock_document(session, document_id)
    if not doc.signing_state:
        raise Conflict("该文书不是在线签署的文书", code="not_signable")
    return doc


def void(session: Session, document_id: int, reason: str, actor: Actor) -> Document:
    """Void an agreement still being signed (or declined): every link dies and the document is revoked."""
    reason = reason.strip()
    if not reason:
        raise AppError("作废必须说明原因", status=422, code="reason_required")
    doc = _agreement(session, document_id)
    if doc.signing_state not in (workflow.PENDING, workflow.DECLINED):
        raise Conflict("只能作废尚未签署完毕的协议；已签署完毕的请重新签发", code="cannot_void")
    _void_requests(session, doc, reason, actor)
    documents.revoke(session, document_id, f"作废：{reason}")
    session.flush()
    return doc


def reissue(
    session: Session,
    archive: Archive,
    converter: Converter,
    document_id: int,
    reason: str,
    actor: Actor,
    *,
    expires_on: date | None = None,
    recipients: Mapping[str, str] | None = None,
) -> Created:
    """Void the agreement's signing, issue a new one that supersedes it, and new requests and links."""
    reason = reason.strip()
    if not reason:
        raise AppError("重新签发必须说明原因", status=422, code="reason_required")
    doc = _agreement(session, document_id)
    if doc.status != "issued" or doc.term_id is None:
        raise Conflict("该协议已被撤销或替代，不能重新签发", code="cannot_reissue")
    if doc.signing_state != workflow.VOIDED:
        _void_requests(session, doc, reason, actor)
    kept = {r.party: r.recipient for r in requests_of(session, document_id) if r.recipient}
    created = create_agreement(
        session, archive, converter, doc.term_id, year=doc.service_year or 1, expires_on=expires_on,
        recipients={**kept, **(recipients or {})}, actor=actor, reissue_reason=reason,
    )  # fmt: skip
    audit.record(
        session, document_id, Event.SUPERSEDED, actor, detail=f"由{created.document.number}替代：{reason}"
    )
    return created


def resend(
    session: Session,
    document_id: int,
    party: str,
    actor: Actor,
    *,
    recipient: str | None = None,
    expires_on: date | None = None,
) -> IssuedLink:
    """A new link for one party (its old link dies), sent to ``recipient`` or the one on file."""
    doc = _agreement(session, document_id)
    workflow.check_document_open(doc.signing_state, doc.status)
    req = next((r for r in requests_of(session, document_id) if r.party == party), None)
    if req is None:
        raise NotFound(f"该协议没有签署方“{party}”")
    if req.status not in (RequestStatus.OPEN.value, RequestStatus.WAITING.value):
        raise Conflict(f"{party_title(party)}已签署或已作废，不能重发链接", code="cannot_resend")
    if recipient:
        req.recipient = recipient.strip()
    term = session.get(ServiceTerm, doc.term_id)
    assert term is not None
    expiry = (
        _link_expiry(session, term, expires_on)
        if expires_on or req.token_expires_at is None
        else links.as_utc(req.token_expires_at)
    )
    if expiry <= datetime.now(UTC):
        expiry = _link_expiry(session, term, None)
    req.code_hash, req.code_expires_at = None, None
    link = _new_link(session, doc, req, expiry, actor)
    session.flush()
    return link


def create_many(
    session: Session,
    archive: Archive,
    converter: Converter,
    terms: list[ServiceTerm],
    *,
    year: int = 1,
    expires_on: date | None = None,
    recipients: Mapping[str, str] | None = None,
    actor: Actor = SYSTEM,
) -> tuple[list[Created], list[tuple[int, str]]]:
    """Agreements for many terms; a term that already has a live agreement for the year is skipped.

    Idempotent: running it again over the same cohort creates only what is missing.
    """
    created: list[Created] = []
    skipped: list[tuple[int, str]] = []
    for term in terms:
        assert term.id is not None
        existing = documents.live_document(session, documents.slot_for(KIND, term.id, year))
        if existing is not None:
            skipped.append((term.id, existing.number))
            continue
        created.append(
            create_agreement(
                session,
                archive,
                converter,
                term.id,
                year=year,
                expires_on=expires_on,
                recipients=recipients,
                actor=actor,
            )
        )
    return created, skipped


def download(session: Session, archive: Archive, document_id: int, actor: Actor) -> tuple[Document, bytes]:
    """The agreement's current PDF for the office; records a ``downloaded`` event."""
    doc = lock_document(session, document_id)
    assert doc.id is not None
    data = archive.get(doc.current_sha256)
    audit.record(session, doc.id, Event.DOWNLOADED, actor, hash_after=doc.current_sha256)
    return doc, data
