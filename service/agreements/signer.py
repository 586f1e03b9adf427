"""The signer's side: open a link, get a one-time code, sign in turn, or decline; or sign from an account.

Each step takes the document's row lock (:func:`service.agreements.service.lock_document`)
before it reads the state it decides on. A signature archives the new revision before the row
points to it, then writes the row only over the version it read (optimistic check on top of the
lock), so two submissions at once serialise and a crash leaves the old state or the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from doc_templates.kinds import get_kind
from service.agreements import links, notify, workflow
from service.agreements.service import CodeRejected, Locked, lock_document, requests_of
from service.agreements.turns import mask_recipient, open_turn, tell_all
from service.agreements.workflow import LinkDead, party_title
from service.audit import service as audit
from service.audit.service import Actor, Event
from service.config import get_settings
from service.errors import AppError, Conflict, Forbidden
from service.jobs import enqueue_after_commit
from service.pki import service as pki
from service.pki.fields import field_name, fields_for, role_label
from service.users.scope import Scope, term_visible
from signing import SigningError, StampSpec, TimestampUnavailable, finish_lta, sign_pdf
from storage.archive import Archive
from storage.models import (
    Document,
    DocumentRevision,
    Organization,
    RequestStatus,
    SigningRequest,
    User,
    Volunteer,
)


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
    workflow.check_can_sign(req.status, party_title(_turn(requests)))
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
    workflow.check_can_sign(req.status, party_title(_turn(requests)))
    try:
        _check_code(req, code, now)
    except (CodeRejected, Locked):
        session.flush()
        raise
    return _sign(session, archive, doc, requests, req, actor)


# ---------------------------------------------------------------------------------------------
# Signing from an organization's account


def _not_yours() -> Forbidden:
    # One answer for "no such document", "not in your scope" and "not your party", so that the
    # refusal tells a prober nothing about other counties' or units' documents.
    return Forbidden(
        "当前账号无权签署该文书：只能以本单位身份签署本单位管辖范围内的文书", code="not_your_document"
    )


def account_signer(session: Session, user: User) -> tuple[Organization, str]:
    """The organization a logged-in user signs for and the party it plays; 403 if none.

    The user's role and the organization's kind must agree (:func:`workflow.account_party`).
    """
    org = session.get(Organization, user.organization_id) if user.organization_id is not None else None
    party = workflow.account_party(user.role, org.kind if org is not None else None)
    if org is None or party is None:
        raise Forbidden("当前账号未关联签署单位，不能在线签署", code="no_signing_organization")
    return org, party


def sign_from_account(
    session: Session, archive: Archive, scope: Scope, user: User, document_id: int, actor: Actor
) -> SigningRequest:
    """A logged-in county office, unit or region office user signs for their own organization when
    its turn has come; the login (password, short-lived bearer token) stands in for the one-time code.

    403 for a document outside the user's scope or one their organization is no party to, 409 out of turn.
    """
    org, party = account_signer(session, user)
    doc = session.get(Document, document_id)
    if doc is None or doc.term_id is None or not term_visible(session, scope, doc.term_id):
        raise _not_yours()
    assert org.id is not None
    return sign_as_organization(session, archive, document_id, org.id, actor, party=party)


def sign_as_organization(
    session: Session,
    archive: Archive,
    document_id: int,
    organization_id: int,
    actor: Actor,
    *,
    party: str | None = None,
) -> SigningRequest:
    """``organization_id`` signs (as ``party`` if given) when its turn has come; the caller
    authenticated whoever acts for it. 403 if it is no party to the document."""
    doc = lock_document(session, document_id)
    workflow.check_document_open(doc.signing_state, doc.status)
    requests = requests_of(session, document_id)
    mine = [r for r in requests if r.organization_id == organization_id and party in (None, r.party)]
    if not mine:
        raise _not_yours()
    req = next((r for r in mine if r.status == RequestStatus.OPEN.value), mine[0])
    workflow.check_can_sign(req.status, party_title(_turn(requests)))
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
        open_turn(session, doc, requests[nxt], actor)
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
        tell_all(
            session, doc, requests, "completed", f"《{kind.title}》（编号{doc.number}）已由各方签署完毕。"
        )
        from service.audit.tasks import attach_signing_report

        enqueue_after_commit(session, attach_signing_report, doc.id)
    session.flush()
    return req


def decline(session: Session, token: str, reason: str, actor: Actor) -> SigningRequest:
    """The party whose turn it is refuses to sign (reason required): the signing ends here."""
    if not reason.strip():
        raise AppError("拒签必须说明原因", status=422, code="reason_required")
    now = datetime.now(UTC)
    doc, requests, req = _locked_by_token(session, token, now)
    assert doc.id is not None
    workflow.check_can_sign(req.status, party_title(_turn(requests)))
    req.status, req.decline_reason = RequestStatus.DECLINED.value, reason.strip()[:500]
    for r in requests:
        if r.status in (RequestStatus.OPEN.value, RequestStatus.WAITING.value):
            r.status = RequestStatus.VOIDED.value
    doc.signing_state = workflow.DECLINED
    audit.record(
        session, doc.id, Event.DECLINED, actor, detail=f"拒签方：{req.party}；原因：{reason.strip()}"
    )
    tell_all(
        session,
        doc,
        requests,
        "declined",
        f"《{get_kind(doc.kind).title}》（编号{doc.number}）已被{party_title(req.party)}拒签，签署终止。原因：{reason.strip()}",
    )
    session.flush()
    return req
