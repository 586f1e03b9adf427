"""The document registry: issue single documents of every kind, look documents up, re-issue."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from doc_templates.context import DocumentData
from service.audit import service as audit
from service.audit.service import SYSTEM, Actor, Event
from service.cohorts import service as cohorts
from service.config import get_settings
from service.documents import data as records
from service.documents.codes import InvalidCode, new_code, normalize_code
from service.documents.converter import Converter
from service.documents.issuing import IssueError, Planned, Sealer, issue_many, today_in_china
from service.documents.sealing import SEALED_AT_ISSUANCE, region_sealer
from service.errors import AppError, Conflict, NotFound
from storage.archive import Archive
from storage.models import Document, DocumentStatus, ServiceTerm, Volunteer

PER_YEAR_KINDS = ("agreement", "appraisal")


def slot_for(kind: str, term_id: int, year: int | None = None) -> str:
    """Which document this is: one live notice per term, one agreement per term and service year, …"""
    return f"{kind}/term/{term_id}" + (f"/{year}" if kind in PER_YEAR_KINDS else "")


def find_term(session: Session, cohort_code: str, id_number: str) -> ServiceTerm:
    cohort = cohorts.get_by_code(session, cohort_code)
    term = session.exec(
        select(ServiceTerm)
        .join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id)
        .where(Volunteer.id_number == id_number.strip().upper(), ServiceTerm.cohort_id == cohort.id)
    ).first()
    if term is None:
        raise NotFound(f"{cohort_code}年度没有该身份证号的志愿者")
    return term


def live_document(session: Session, slot: str) -> Document | None:
    return session.exec(select(Document).where(Document.live_slot == slot)).first()


def build_data(session: Session, kind: str, term_id: int, year: int | None) -> DocumentData:
    rec = records.load_term(session, term_id)
    code, issued, url = new_code(), today_in_china(), get_settings().public_url
    if kind == "notice":
        return records.notice_data(rec, code=code, issue_date=issued, public_url=url)
    if kind == "agreement":
        return records.agreement_data(
            rec,
            year or 1,
            code=code,
            issue_date=issued,
            public_url=url,
            monthly_allowance=get_settings().monthly_allowance,
        )
    if kind == "appraisal":
        return records.appraisal_data(session, rec, year or 1, code=code, issue_date=issued, public_url=url)
    if kind == "evaluation":
        return records.evaluation_data(session, rec, code=code, issue_date=issued, public_url=url)
    if kind == "certificate":
        return records.certificate_data(session, rec, code=code, issue_date=issued, public_url=url)
    raise NotFound(f"文书类型“{kind}”不存在")


def issue_one(
    session: Session,
    archive: Archive,
    converter: Converter,
    kind: str,
    term_id: int,
    *,
    year: int | None = None,
    reissue_reason: str | None = None,
    sealer: Sealer | None = None,
    actor: Actor | None = None,
) -> Document:
    """Issue one document; without ``reissue_reason`` an existing live one is refused (409).

    A re-issue supersedes the live document: it stays verifiable, marked 已被新版本替代, and points
    to its successor. With ``actor``, the supersession goes into the old document's audit trail
    (callers that record it themselves, like the online-signing re-issue, leave ``actor`` out).
    """
    slot = slot_for(kind, term_id, year)
    previous = live_document(session, slot)
    if previous is not None and not reissue_reason:
        raise Conflict(
            f"该文书已签发（编号{previous.number}）；如需重新签发请说明原因", document_id=previous.id
        )
    data = build_data(session, kind, term_id, year)
    if previous is not None:
        previous.live_slot = None
        session.flush()
        generation = 1 + len(session.exec(select(Document.id).where(Document.slot == slot)).all())
        data = records.reissued(data, generation)
    term = session.get(ServiceTerm, term_id)
    assert term is not None
    if sealer is None and kind in SEALED_AT_ISSUANCE:
        sealer = region_sealer(session)
    planned = Planned(slot, data, term.cohort_id, term_id, year if kind in PER_YEAR_KINDS else None)
    (result,) = issue_many(session, archive, converter, [planned], sealer=sealer)
    if isinstance(result, IssueError):
        raise AppError(str(result), status=422, code="issue_failed")
    if previous is not None:
        mark_superseded(previous, result, reissue_reason or "")
        if actor is not None:
            assert previous.id is not None
            audit.record(
                session, previous.id, Event.SUPERSEDED, actor, hash_after=previous.current_sha256,
                detail=f"由{result.number}替代：{reissue_reason}",
            )  # fmt: skip
    session.flush()
    return result


def supersede(
    session: Session,
    archive: Archive,
    converter: Converter,
    document_id: int,
    reason: str,
    *,
    actor: Actor = SYSTEM,
) -> Document:
    """A corrected re-issue of ``document_id`` from the current records; the old one stays verifiable
    as 已被新版本替代 and points to the new one. The supersession is in the old one's audit trail.

    Documents signed online are re-issued with new signing requests instead (agreements.reissue).
    """
    reason = reason.strip()
    if not reason:
        raise AppError("替代必须说明原因", status=422, code="reason_required")
    doc = _locked(session, document_id)
    if doc.status != DocumentStatus.ISSUED.value or doc.live_slot != doc.slot or doc.term_id is None:
        raise Conflict("该文书已被撤销或替代，不能再次替代", code="not_live")
    if doc.signing_state:
        raise Conflict(
            f"该文书为在线签署文书，请通过“重新签发”替代（POST /api/v1/agreements/{doc.id}/reissue）",
            code="use_reissue",
        )
    return issue_one(
        session, archive, converter, doc.kind, doc.term_id, year=doc.service_year, reissue_reason=reason,
        actor=actor,
    )  # fmt: skip


def _locked(session: Session, document_id: int) -> Document:
    """The document under its row lock (audit events are appended under it)."""
    # The lock lives with online signing, which needed it first; imported here to avoid a cycle.
    from service.agreements.service import lock_document

    return lock_document(session, document_id)


def mark_superseded(old: Document, new: Document, reason: str) -> None:
    old.status = DocumentStatus.SUPERSEDED.value
    old.status_reason = reason
    old.status_changed_at = datetime.now(UTC)
    old.superseded_by_id = new.id
    old.live_slot = None


def revoke(session: Session, document_id: int, reason: str, *, actor: Actor = SYSTEM) -> Document:
    """Revoke a document (reason required); the audit trail records it and the public lookup shows it at once."""
    if not reason.strip():
        raise AppError("撤销必须说明原因", status=422, code="reason_required")
    doc = _locked(session, document_id)
    if doc.status != DocumentStatus.ISSUED.value:
        raise Conflict("该文书已被撤销或替代")
    if doc.signing_state in ("pending", "declined"):
        # Revoking under a live signing would leave links that still open; voiding kills them too.
        raise Conflict(
            f"该文书正在在线签署，请通过“作废”撤销（POST /api/v1/agreements/{document_id}/void）",
            code="use_void",
        )
    doc.status = DocumentStatus.REVOKED.value
    doc.status_reason = reason.strip()
    doc.status_changed_at = datetime.now(UTC)
    doc.live_slot = None
    assert doc.id is not None
    audit.record(
        session, doc.id, Event.REVOKED, actor, hash_after=doc.current_sha256, detail=f"原因：{reason.strip()}"
    )
    session.flush()
    return doc


def get_document(session: Session, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound(f"文书{document_id}不存在")
    return doc


def by_code(session: Session, code: str) -> Document | None:
    """The document a verification code names, however the person typed it; None if none."""
    try:
        canonical = normalize_code(code)
    except InvalidCode:
        return None
    return session.exec(select(Document).where(Document.verification_code == canonical)).first()
