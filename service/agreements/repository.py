"""Every query of the online-signing domain, always through the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from service.agreements.workflow import PENDING, SIGNED_ONLINE
from service.cohorts import service as cohorts
from service.errors import NotFound
from service.users.scope import Scope, scoped_terms, term_visible
from storage.models import Document, DocumentStatus, RequestStatus, ServiceTerm, SigningRequest, Volunteer


def terms_for(
    session: Session,
    scope: Scope,
    cohort_code: str,
    *,
    term_id: int | None = None,
    id_number: str | None = None,
    league: str | None = None,
    county: str | None = None,
    unit_id: int | None = None,
) -> list[ServiceTerm]:
    """The cohort's terms in ``scope`` matching the filter, in term order."""
    from storage.models import Post

    cohort = cohorts.get_by_code(session, cohort_code)
    stmt: Any = scoped_terms(scope).where(ServiceTerm.cohort_id == cohort.id)
    if term_id is not None:
        stmt = stmt.where(ServiceTerm.id == term_id)
    if id_number:
        stmt = stmt.join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id).where(
            Volunteer.id_number == id_number.strip().upper()
        )
    if league:
        stmt = stmt.where(Post.league == league)
    if county:
        stmt = stmt.where(Post.county == county)
    if unit_id is not None:
        stmt = stmt.where(Post.unit_id == unit_id)
    return list(session.exec(stmt.order_by(ServiceTerm.id)).all())


def visible_document(session: Session, scope: Scope, document_id: int) -> Document:
    """The online-signed document if the caller may see it; 404 otherwise, so ids cannot be probed."""
    doc = session.get(Document, document_id)
    if (
        doc is None
        or doc.kind not in SIGNED_ONLINE
        or doc.term_id is None
        or not term_visible(session, scope, doc.term_id)
    ):
        raise NotFound(f"文书{document_id}不存在")
    return doc


def _signing_documents(scope: Scope) -> Any:
    return scoped_terms(scope, select(Document).select_from(ServiceTerm)).where(
        col(Document.term_id) == ServiceTerm.id,
        col(Document.kind).in_(SIGNED_ONLINE),
        Document.signing_state != "",
    )


def list_documents(
    session: Session,
    scope: Scope,
    *,
    kind: str | None = None,
    cohort_code: str | None = None,
    state: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Document]:
    """Online-signed documents in scope, newest first; ``state`` filters on the signing state."""
    stmt = _signing_documents(scope)
    if kind:
        stmt = stmt.where(Document.kind == kind)
    if cohort_code:
        stmt = stmt.where(Document.cohort_id == cohorts.get_by_code(session, cohort_code).id)
    if state:
        stmt = stmt.where(Document.signing_state == state)
    return list(session.exec(stmt.order_by(col(Document.id).desc()).offset(offset).limit(limit)).all())


def awaiting(
    session: Session, scope: Scope, organization_id: int, party: str, *, limit: int = 200, offset: int = 0
) -> list[Document]:
    """Documents in scope whose turn is ``organization_id``'s, as ``party``: an organization's inbox, oldest first."""
    turns = select(SigningRequest.document_id).where(
        SigningRequest.organization_id == organization_id,
        SigningRequest.party == party,
        SigningRequest.status == RequestStatus.OPEN.value,
    )
    stmt = _signing_documents(scope).where(
        col(Document.id).in_(turns),
        Document.signing_state == PENDING,
        Document.status == DocumentStatus.ISSUED.value,
    )
    return list(session.exec(stmt.order_by(col(Document.id)).offset(offset).limit(limit)).all())


# Older names, kept for callers written when agreements were the only kind signed online.
visible_agreement = visible_document


def list_agreements(
    session: Session,
    scope: Scope,
    *,
    cohort_code: str | None = None,
    state: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Document]:
    """Agreements only: :func:`list_documents` with ``kind="agreement"``."""
    return list_documents(
        session, scope, kind="agreement", cohort_code=cohort_code, state=state, limit=limit, offset=offset
    )
