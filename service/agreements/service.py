"""Ordered online signing, the office's side: send a document out for signing, void, resend, re-issue.

Three kinds go out this way (:data:`workflow.SIGNED_ONLINE`): 三方服务协议, 年度考核表 and
服务鉴定表, each with its parties in the configured order. The module keeps the name
"agreements" from when the 三方服务协议 was the only one; nothing in it is agreement-specific.
The signer's side (view, code, sign, decline) is in :mod:`service.agreements.signer`.

A party hears from us when its turn comes, not before: at creation only the first party's link is
minted and sent; each later party's link is minted and sent when the one before it signs
(:func:`open_turn`). A token is shown once, so a link minted early would sit in an inbox for weeks
before it could be used, and die at the first resend.

Every function flushes and never commits (the request or CLI command commits once); messages go
out only after that commit (:mod:`service.agreements.notify`). Whatever changes a document's
signing takes its row lock first (:func:`lock_document`), then re-reads the state it decides on. A
new PDF revision is archived (write-once, by SHA-256) before any row points to it, so a crash at
any step leaves the old state or the new one; an orphan blob is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import update
from sqlmodel import Session, col, select

from doc_templates.kinds import get_kind
from service.agreements import links, repository, workflow
from service.agreements.turns import IssuedLink, new_link, tell_all
from service.agreements.turns import mask_recipient as mask_recipient  # re-exported for older callers
from service.agreements.workflow import party_title
from service.audit import service as audit
from service.audit.service import SYSTEM, Actor, Event
from service.cohorts.rules import service_end
from service.config import get_settings
from service.documents import service as documents
from service.documents.converter import Converter
from service.documents.data import grades_by_year
from service.documents.issuing import today_in_china
from service.errors import AppError, Conflict, NotFound
from service.organizations.service import county_office, region_office
from service.users.scope import Scope
from storage.archive import Archive
from storage.models import (
    Cohort,
    Document,
    Organization,
    Post,
    RequestStatus,
    ServiceTerm,
    SigningRequest,
    Volunteer,
)

log = logging.getLogger(__name__)


class CodeRejected(AppError):
    """A wrong, expired or missing code. The attempt counter it changed must be committed anyway."""

    status = 400
    code = "code_rejected"


class Locked(AppError):
    status = 423
    code = "locked"


@dataclass(frozen=True)
class RecipientMissing:
    """A party nobody can send a link to: said to the office at creation, in Chinese."""

    party: str
    organization: str | None  # the organization's name; None for a volunteer
    message: str


@dataclass(frozen=True)
class Created:
    document: Document
    links: list[IssuedLink]
    warnings: list[RecipientMissing] = field(default_factory=list)


class Skipped(NamedTuple):
    """A term ``create_many`` left alone: it already has a live document, or it is not ready.

    A tuple, so callers written for the older ``(term_id, number)`` pairs still index it.
    """

    term_id: int
    number: str | None
    reason: str
    code: str


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


# ---------------------------------------------------------------------------------------------
# Sending a document out for signing


def _signers(
    session: Session, term: ServiceTerm, order: tuple[str, ...]
) -> dict[str, tuple[Organization | None, Volunteer | None]]:
    """Who each party of ``order`` is for this term (an organization, or the volunteer)."""
    post = session.get(Post, term.post_id)
    volunteer = session.get(Volunteer, term.volunteer_id)
    assert post is not None and volunteer is not None
    found: dict[str, tuple[Organization | None, Volunteer | None]] = {}
    for party in order:
        if party == "volunteer":
            found[party] = (None, volunteer)
        elif party == "unit":
            found[party] = (session.get(Organization, post.unit_id), None)
        elif party == "county_office":
            found[party] = (county_office(session, post.league, post.county), None)
        elif party == "region_office":
            found[party] = (region_office(session), None)
        else:
            raise ValueError(f"no signer known for party {party!r}")
    return found


def _default_recipient(volunteer: Volunteer | None) -> str | None:
    """Volunteers have an e-mail or phone on file; organizations have none: the office names one."""
    if volunteer is not None:
        return volunteer.email or volunteer.phone or None
    return None


def _missing(
    party: str, org: Organization | None, volunteer: Volunteer | None, first: bool
) -> RecipientMissing:
    title = party_title(party)
    if org is not None:
        who = f"{title}“{org.name}”没有登记接收签署链接的邮箱或手机号"
        then = (
            "本次显示的签署链接不会自动发送，请转交该单位，或请该单位登录账号签署。"
            if first
            else "轮到其签署时不会自动发送链接：请该单位登录账号签署，或届时由项目办补充联系方式后重发链接。"
        )
        return RecipientMissing(party, org.name, f"{who}，{then}")
    name = volunteer.name if volunteer is not None else ""
    then = (
        "本次显示的签署链接不会自动发送，请转交本人。"
        if first
        else "轮到其签署时不会自动发送链接，请届时补充联系方式后重发链接。"
    )
    return RecipientMissing(party, None, f"志愿者“{name}”没有登记邮箱或手机号，{then}")


def _check_recipients(kind: str, order: tuple[str, ...], chosen: Mapping[str, str]) -> None:
    """A recipient for a party the kind does not have is a typo: refuse it rather than lose it."""
    strangers = sorted(set(chosen) - set(order))
    if strangers:
        raise AppError(
            f"《{get_kind(kind).title}》没有签署方“{'、'.join(strangers)}”；签署方为：{'、'.join(order)}",
            status=422,
            code="unknown_party",
        )


def check_ready(session: Session, kind: str, term: ServiceTerm, year: int | None) -> None:
    """Refuse (409) a document whose time has not come: see :func:`workflow.check_ready`."""
    assert term.id is not None
    workflow.check_ready(
        kind,
        year=year,
        agreed_years=term.agreed_years,
        graded_years=set(grades_by_year(session, term.id)),
        service_end=service_end(term.report_date, term.agreed_years),
        today=today_in_china(),
    )


def _link_expiry(
    session: Session, kind: str, term: ServiceTerm, year: int | None, expires_on: date | None
) -> datetime:
    if expires_on is None:
        cohort = session.get(Cohort, term.cohort_id)
        assert cohort is not None
        expires_on = workflow.default_link_expiry(kind, year, cohort.signing_deadline, today_in_china())
    expiry = links.end_of_day(expires_on)
    if expiry <= datetime.now(UTC):
        raise AppError(
            f"签署截止日期{expires_on}已过，请指定新的链接有效期", status=422, code="deadline_passed"
        )
    return expiry


def create_for_signing(
    session: Session,
    archive: Archive,
    converter: Converter,
    kind: str,
    term_id: int,
    *,
    year: int | None = 1,
    expires_on: date | None = None,
    recipients: Mapping[str, str] | None = None,
    actor: Actor = SYSTEM,
    reissue_reason: str | None = None,
) -> Created:
    """Issue one term's document of ``kind`` (for service ``year`` where the kind is yearly) and one
    request per party in the configured order; only the first party's link is minted and sent now.

    Refused before anything is rendered when the document may not go out yet (409, see
    :func:`workflow.check_ready`).
    """
    workflow.check_signable(kind)
    term = session.get(ServiceTerm, term_id)
    if term is None:
        raise NotFound(f"服务记录{term_id}不存在")
    year = workflow.service_year(kind, year)
    check_ready(session, kind, term, year)
    expiry = _link_expiry(session, kind, term, year, expires_on)
    order = workflow.party_order(kind, get_settings().signing_order)
    chosen = recipients or {}
    _check_recipients(kind, order, chosen)
    signers = _signers(session, term, order)
    doc = documents.issue_one(
        session, archive, converter, kind, term_id, year=year, reissue_reason=reissue_reason
    )
    assert doc.id is not None
    doc.signing_state = workflow.PENDING
    recipient_of = {p: chosen.get(p) or _default_recipient(signers[p][1]) for p in order}
    warnings = [_missing(p, *signers[p], first=i == 0) for i, p in enumerate(order) if not recipient_of[p]]
    for w in warnings:
        log.info("document %s: no recipient for %s", doc.id, w.party)
    unreachable = "、".join(f"{party_title(w.party)}（{w.organization or '志愿者'}）" for w in warnings)
    audit.record(
        session,
        doc.id,
        Event.CREATED,
        actor,
        hash_after=doc.current_sha256,
        detail=f"{get_kind(kind).title}，在线签署：{'→'.join(str(party_title(p)) for p in order)}"
        + (f"；未登记联系方式：{unreachable}" if unreachable else ""),
    )
    issued: list[IssuedLink] = []
    for position, party in enumerate(order):
        org, volunteer = signers[party]
        req = SigningRequest(
            document_id=doc.id,
            party=party,
            position=position,
            status=(RequestStatus.OPEN if position == 0 else RequestStatus.WAITING).value,
            organization_id=org.id if org else None,
            volunteer_id=volunteer.id if volunteer else None,
            recipient=recipient_of[party],
            token_expires_at=expiry,  # the expiry the link gets when the party's turn opens
        )
        session.add(req)
        session.flush()
        assert req.id is not None
        if position == 0:
            issued.append(new_link(session, doc, req, expiry, actor))
        else:
            issued.append(IssuedLink(party, req.id, None, None, None, req.recipient, req.status))
    session.flush()
    return Created(doc, issued, warnings)


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
) -> Created:
    """A term's 三方服务协议: :func:`create_for_signing` as the callers written before the other kinds call it."""
    return create_for_signing(
        session, archive, converter, "agreement", term_id, year=year, expires_on=expires_on,
        recipients=recipients, actor=actor,
    )  # fmt: skip


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


def _signing_document(session: Session, document_id: int) -> Document:
    doc = lock_document(session, document_id)
    if not doc.signing_state:
        raise Conflict("该文书不是在线签署的文书", code="not_signable")
    return doc


def void(session: Session, document_id: int, reason: str, actor: Actor) -> Document:
    """Void a document still being signed (or declined): every link dies and the document is revoked."""
    reason = reason.strip()
    if not reason:
        raise AppError("作废必须说明原因", status=422, code="reason_required")
    doc = _signing_document(session, document_id)
    if doc.signing_state not in (workflow.PENDING, workflow.DECLINED):
        raise Conflict("只能作废尚未签署完毕的文书；已签署完毕的请重新签发", code="cannot_void")
    _void_requests(session, doc, reason, actor)
    documents.revoke(session, document_id, f"作废：{reason}", actor=actor)
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
    """Void the document's signing, issue a new one of the same kind and year that supersedes it,
    and start its signing over (the first party's link now, the others' in turn)."""
    reason = reason.strip()
    if not reason:
        raise AppError("重新签发必须说明原因", status=422, code="reason_required")
    doc = _signing_document(session, document_id)
    if doc.status != "issued" or doc.term_id is None:
        raise Conflict("该文书已被撤销或替代，不能重新签发", code="cannot_reissue")
    if doc.signing_state != workflow.VOIDED:
        _void_requests(session, doc, reason, actor)
    kept = {r.party: r.recipient for r in requests_of(session, document_id) if r.recipient}
    created = create_for_signing(
        session, archive, converter, doc.kind, doc.term_id, year=doc.service_year, expires_on=expires_on,
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
    """A new link for the party whose turn it is (its old link dies), sent to ``recipient`` or the
    one on file. A party still waiting gets its link when its turn comes, not before (409)."""
    doc = _signing_document(session, document_id)
    workflow.check_document_open(doc.signing_state, doc.status)
    req = next((r for r in requests_of(session, document_id) if r.party == party), None)
    if req is None:
        raise NotFound(f"该文书没有签署方“{party}”")
    if req.status == RequestStatus.WAITING.value:
        raise Conflict(
            f"尚未轮到{party_title(party)}签署：前序签署方签署后，系统会自动向其发送签署链接",
            code="not_turn_yet",
        )
    if req.status != RequestStatus.OPEN.value:
        raise Conflict(f"{party_title(party)}已签署或已作废，不能重发链接", code="cannot_resend")
    if recipient:
        req.recipient = recipient.strip()
    term = session.get(ServiceTerm, doc.term_id)
    assert term is not None
    expiry = (
        _link_expiry(session, doc.kind, term, doc.service_year, expires_on)
        if expires_on or req.token_expires_at is None
        else links.as_utc(req.token_expires_at)
    )
    if expiry <= datetime.now(UTC):
        expiry = _link_expiry(session, doc.kind, term, doc.service_year, None)
    req.code_hash, req.code_expires_at = None, None
    link = new_link(session, doc, req, expiry, actor)
    session.flush()
    return link


def create_many(
    session: Session,
    archive: Archive,
    converter: Converter,
    terms: list[ServiceTerm],
    *,
    kind: str = "agreement",
    year: int | None = 1,
    expires_on: date | None = None,
    recipients: Mapping[str, str] | None = None,
    actor: Actor = SYSTEM,
    refuse_not_ready: bool = False,
) -> tuple[list[Created], list[Skipped]]:
    """Documents of ``kind`` for many terms. A term that already has a live one (for the year) is
    skipped, and so is one that is not ready (grade not recorded, service not over), with the
    reason; with ``refuse_not_ready`` (the office named one person) that refusal is raised instead.

    Idempotent: running it again over the same cohort creates only what is missing.
    """
    workflow.check_signable(kind)
    year = workflow.service_year(kind, year)
    created: list[Created] = []
    skipped: list[Skipped] = []
    for term in terms:
        assert term.id is not None
        existing = documents.live_document(session, documents.slot_for(kind, term.id, year))
        if existing is not None:
            skipped.append(Skipped(term.id, existing.number, "已签发，跳过", "exists"))
            continue
        try:
            check_ready(session, kind, term, year)  # reads only: nothing to undo when it refuses
        except workflow.NotReady as exc:
            if refuse_not_ready:
                raise
            skipped.append(Skipped(term.id, None, exc.message, exc.code))
            continue
        one = create_for_signing(
            session, archive, converter, kind, term.id, year=year, expires_on=expires_on,
            recipients=recipients, actor=actor,
        )  # fmt: skip
        created.append(one)
    return created, skipped


def download(
    session: Session, archive: Archive, scope: Scope, document_id: int, actor: Actor
) -> tuple[Document, bytes]:
    """The document's current PDF for a user who may see it (404 otherwise, so ids cannot be probed);
    records a ``downloaded`` event. The API and the pages both serve the PDF through here."""
    repository.visible_document(session, scope, document_id)
    doc = lock_document(session, document_id)
    assert doc.id is not None
    data = archive.get(doc.current_sha256)
    audit.record(session, doc.id, Event.DOWNLOADED, actor, hash_after=doc.current_sha256)
    return doc, data
