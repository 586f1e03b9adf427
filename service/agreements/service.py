"""Ordered online signing: create an agreement's requests, sign in turn, decline, void, resend, re-issue.

Every function flushes and never commits (the request or CLI command commits once). Whatever
changes a document's signing takes its row lock first (:func:`lock_document`), then re-reads
the state it decides on. A new PDF revision is archived (write-once, by SHA-256) before any row
points to it, so a crash at any step leaves the old state or the new one; an orphan blob is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.agreements import links, notify, workflow
from service.agreements.workflow import LinkDead
from service.audit import service as audit
from service.audit.service import SYSTEM, Actor, Event
from service.config import get_settings
from service.documents import service as documents
from service.documents.converter import Converter
from service.errors import AppError, Conflict, NotFound
from service.organizations.service import county_office
from service.pki import service as pki
from service.pki.fields import field_name, fields_for, role_label
from signing import SigningError, StampSpec, TimestampUnavailable, finish_lta, sign_pdf
from storage.archive import Archive
from storage.models import (
    Document,
    DocumentRevision,
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


def _by_token(session: Session, token: str) -> SigningRequest:
    digest = links.hash_token(token)
    req = session.exec(select(SigningRequest).where(SigningRequest.token_hash == digest)).first()
    if req is None or not links.token_matches(token, req.token_hash):
        raise LinkDead("签署链接无效或已被新链接替代，请联系项目办重新发送", code="link_invalid")
    return req


def _locked_by_token(
    session: Session, token: str, now: datetime
) -> tuple[Document, list[SigningRequest], SigningRequest]:
    """Resolve a link, take the document's lock, and refuse dead documents, links and parties."""
    doc_id = _by_token(session, token).document_id
    doc = lock_document(session, doc_id)
    requests = requests_of(session, doc_id)
    req = next((r for r in requests if links.token_matches(token, r.token_hash)), None)
    if req is None:  # replaced by a resend while we waited for the lock
        raise LinkDead("签署链接无效或已被新链接替代，请联系项目办重新发送", code="link_invalid")
    workflow.check_document_open(doc.signing_state, doc.status)
    if req.status == RequestStatus.SIGNED.value:
        workflow.check_can_sign(req.status, None)
    if links.expired(req.token_expires_at, now):
        raise LinkDead("签署链接已过期，请联系项目办重新发送", code="link_expired")
    return doc, requests, req


def _turn(requests: list[SigningRequest]) -> str | None:
    return workflow.whose_turn([(r.party, r.status) for r in requests])


def _title(party: str | None) -> str | None:
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
                    f"{_title(req.party)}身份签署，{turn}。\n签署链接：{url}\n"
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


# ---------------------------------------------------------------------------------------------
# The signer's side: view, code, sign, decline


@dataclass(frozen=True)
class SigningView:
    document: Document
    request: SigningRequest
    requests: list[SigningRequest]
    turn: str | None


def view(session: Session, token: str, actor: Actor, *, record: bool = True) -> SigningView:
    """What the link's holder is asked to sign; records a ``viewed`` event unless told not to."""
    now = datetime.now(UTC)
    doc, requests, req = _locked_by_token(session, token, now)
    assert doc.id is not None
    if record:
        audit.record(session, doc.id, Event.VIEWED, actor, detail=f"签署方：{req.party}")
    return SigningView(doc, req, requests, _turn(requests))


def send_code(session: Session, token: str, actor: Actor) -> tuple[SigningRequest, int]:
    """A fresh 6-digit code to the party's recipient (any older code dies); returns it with its validity in s."""
    settings = get_settings()
    now = datetime.now(UTC)
    doc, requests, req = _locked_by_token(session, token, now)
    assert doc.id is not None and req.id is not None
    workflow.check_can_sign(req.status, _title(_turn(requests)))
    _check_not_locked(req, now)
    if not req.recipient:
        raise Conflict(
            "该签署方没有登记联系方式，无法发送验证码；请登录单位账号签署，或请项目办补充联系方式后重发链接",
            code="no_recipient",
        )
    if req.code_expires_at is not None:
        sent_at = links.as_utc(req.code_expires_at) - timedelta(minutes=settings.signing_code_minutes)
        wait = settings.signing_code_resend_seconds - int((now - sent_at).total_seconds())
        if wait > 0:
            raise AppError(
                f"验证码发送过于频繁，请{wait}秒后再试",
                status=429,
                code="code_rate_limited",
                retry_after=wait,
            )
    code = links.new_code()
    req.code_hash = links.hash_code(code, settings.secret_key, req.id)
    req.code_expires_at = now + timedelta(minutes=settings.signing_code_minutes)
    notify.queue(
        session,
        notify.Message(
            to=req.recipient,
            subject=f"签署验证码：{doc.number}",
            body=f"您的签署验证码是 {code}，{settings.signing_code_minutes}分钟内有效。如非本人操作，请忽略并联系项目办。",
            purpose="code",
            document_id=doc.id,
            party=req.party,
            code=code,
        ),
    )
    audit.record(
        session,
        doc.id,
        Event.CODE_SENT,
        actor,
        detail=f"签署方：{req.party}，发送至{mask_recipient(req.recipient)}",
    )
    session.flush()
    return req, settings.signing_code_minutes * 60


def _check_not_locked(req: SigningRequest, now: datetime) -> None:
    if req.locked_until is not None and not links.expired(req.locked_until, now):
        minutes = -(-links.seconds_left(req.locked_until, now) // 60)
        raise Locked(f"验证码错误次数过多，签署已锁定，请{minutes}分钟后再试")


def _check_code(req: SigningRequest, code: str, now: datetime) -> None:
    """Count the attempt; a wrong or expired code raises :class:`CodeRejected` (the caller commits)."""
    settings = get_settings()
    assert req.id is not None
    _check_not_locked(req, now)
    if req.code_hash is None:
        raise CodeRejected("请先获取验证码", code="code_missing")
    if links.expired(req.code_expires_at, now):
        raise CodeRejected("验证码已过期，请重新获取", code="code_expired")
    if links.code_matches(code, req.code_hash, settings.secret_key, req.id):
        return
    req.code_attempts += 1
    left = settings.signing_code_max_attempts - req.code_attempts
    if left <= 0:
        req.locked_until = now + timedelta(minutes=settings.signing_lock_minutes)
        req.code_hash, req.code_expires_at, req.code_attempts = None, None, 0
        raise Locked(f"验证码错误次数过多，签署已锁定{settings.signing_lock_minutes}分钟", code="code_locked")
    raise CodeRejected(f"验证码错误，还可尝试{left}次", code="code_wrong", attempts_left=left)


def sign_with_code(session: Session, archive: Archive, token: str, code: str, actor: Actor) -> SigningRequest:
    """The link holder signs with the code we sent; refused out of turn (409) or on a dead link (410)."""
    now = datetime.now(UTC)
    doc, requests, req = _locked_by_token(session, token, now)
    workflow.check_can_sign(req.status, _title(_turn(requests)))
    try:
        _check_code(req, code, now)
    except (CodeRejected, Locked):
        session.flush()
        raise
    return _sign(session, archive, doc, requests, req, actor)


def sign_as_organization(
    session: Session, archive: Archive, document_id: int, organization_id: int, actor: Actor
) -> SigningRequest:
    """A logged-in office or unit user signs for their organization; the login stands in for the code."""
    doc = lock_document(session, document_id)
    workflow.check_document_open(doc.signing_state, doc.status)
    requests = requests_of(session, document_id)
    mine = [r for r in requests if r.organization_id == organization_id]
    if not mine:
        raise NotFound(f"文书{document_id}不存在")
    req = next((r for r in mine if r.status == RequestStatus.OPEN.value), mine[0])
    workflow.check_can_sign(req.status, _title(_turn(requests)))
    return _sign(session, archive, doc, requests, req, actor)


def _signer_of(session: Session, req: SigningRequest) -> tuple[Organization | None, Volunteer | None]:
    if req.organization_id is not None:
        return session.get(Organization, req.organization_id), None
    return None, session.get(Volunteer, req.volunteer_id)


def _sign(
    session: Session,
    archive: Archive,
    doc: Document,
    requests: list[SigningRequest],
    req: SigningRequest,
    actor: Actor,
) -> SigningRequest:
    """Sign ``req``'s field over the current revision (caller holds the lock and checked the turn)."""
    assert doc.id is not None
    kind = get_kind(doc.kind)
    read_version, before = doc.version, doc.current_sha256
    fields = {f.name: f for f in fields_for(kind, archive.get(doc.rendered_sha256))}
    order = [fields[field_name(r.party)] for r in requests]
    org, volunteer = _signer_of(session, req)
    certificate, signer = pki.signer_for(session, organization=org, volunteer=volunteer)
    name = org.name if org is not None else (volunteer.name if volunteer is not None else "")
    first = req.position == 0
    nxt = workflow.next_open([r.status for r in requests], req.position)
    tsa = pki.timestamper()
    try:
        signed = sign_pdf(
            archive.get(before),
            signer,
            order[req.position],
            timestamper=tsa,
            certify=first,
            later_fields=order[1:] if first else (),
            stamp=StampSpec(role=role_label(kind, req.party), signer_name=name),
            fonts=pki.stamp_fonts(),
        )
        final = finish_lta(signed, pki.trust(), timestamper=tsa) if nxt is None else None
    except TimestampUnavailable as exc:
        raise AppError(exc.reason, status=503, code="tsa_unavailable") from None
    except SigningError as exc:
        raise AppError(exc.reason, status=422, code="signing_failed") from None
    # Archive first: the database may point only at blobs that are already on disk.
    revisions = [(archive.put(signed), f"signed:{req.party}")]
    if final is not None:
        revisions.append((archive.put(final), "timestamped"))
    after = revisions[-1][0]
    changed = session.execute(
        update(Document)
        .where(col(Document.id) == doc.id, col(Document.version) == read_version)
        .values(
            current_sha256=after,
            version=read_version + 1,
            signing_state=workflow.COMPLETED if final is not None else workflow.PENDING,
        ),
        execution_options={"synchronize_session": False},
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("文件已被同时修改，请刷新后重试", code="version_conflict")
    session.refresh(doc)
    seq = (
        session.exec(
            select(func.max(DocumentRevision.seq)).where(DocumentRevision.document_id == doc.id)
        ).one()
        or 0
    )
    for i, (sha, reason) in enumerate(revisions, start=1):
        session.add(DocumentRevision(document_id=doc.id, seq=seq + i, sha256=sha, reason=reason))
    now = datetime.now(UTC)
    req.status, req.signed_at, req.certificate_id = RequestStatus.SIGNED.value, now, certificate.id
    req.code_hash, req.code_expires_at, req.code_attempts = None, None, 0
    audit.record(
        session,
        doc.id,
        Event.SIGNED,
        actor,
        hash_before=before,
        hash_after=revisions[0][0],
        detail=f"签署方：{req.party}（{name}）",
    )
    if nxt is not None:
        _open(session, doc, requests[nxt], actor)
    else:
        audit.record(
            session,
            doc.id,
            Event.COMPLETED,
            actor,
            hash_before=revisions[0][0],
            hash_after=after,
            detail="各方签署完毕，已加盖文档时间戳",
        )
        _tell_all(
            session, doc, requests, "completed", f"《{kind.title}》（编号{doc.number}）已由各方签署完毕。"
        )
    session.flush()
    return req


def _open(session: Session, doc: Document, req: SigningRequest, actor: Actor) -> None:
    assert doc.id is not None
    req.status = RequestStatus.OPEN.value
    if req.recipient:
        notify.queue(
            session,
            notify.Message(
                to=req.recipient,
                subject=f"轮到您签署{doc.number}",
                body=f"《{get_kind(doc.kind).title}》（编号{doc.number}）的前序签署方已完成签署，现在轮到您签署。请使用此前收到的签署链接，或登录账号签署。",
                purpose="turn",
                document_id=doc.id,
                party=req.party,
            ),
        )


def _tell_all(
    session: Session, doc: Document, requests: list[SigningRequest], purpose: str, text: str
) -> None:
    assert doc.id is not None
    for r in requests:
        if r.recipient:
            notify.queue(
                session,
                notify.Message(r.recipient, f"{doc.number}：{text[:20]}", text, purpose, doc.id, r.party),
            )


def decline(session: Session, token: str, reason: str, actor: Actor) -> SigningRequest:
    """The party whose turn it is refuses to sign (reason required): the signing ends here."""
    if not reason.strip():
        raise AppError("拒签必须说明原因", status=422, code="reason_required")
    now = datetime.now(UTC)
    doc, requests, req = _locked_by_token(session, token, now)
    assert doc.id is not None
    workflow.check_can_sign(req.status, _title(_turn(requests)))
    req.status, req.decline_reason = RequestStatus.DECLINED.value, reason.strip()[:500]
    for r in requests:
        if r.status in (RequestStatus.OPEN.value, RequestStatus.WAITING.value):
            r.status = RequestStatus.VOIDED.value
    doc.signing_state = workflow.DECLINED
    audit.record(
        session, doc.id, Event.DECLINED, actor, detail=f"拒签方：{req.party}；原因：{reason.strip()}"
    )
    _tell_all(
        session,
        doc,
        requests,
        "declined",
        f"《{get_kind(doc.kind).title}》（编号{doc.number}）已被{_title(req.party)}拒签，签署终止。原因：{reason.strip()}",
    )
    session.flush()
    return req


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
    _tell_all(
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
        raise Conflict(f"{_title(party)}已签署或已作废，不能重发链接", code="cannot_resend")
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
