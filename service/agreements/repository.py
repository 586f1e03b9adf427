"""Every query of the agreements domain, always through the caller's scope."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from service.cohorts import service as cohorts
from service.errors import NotFound
from service.users.scope import Scope, scoped_terms, term_visible
from storage.models import Document, ServiceTerm, Volunteer

KIND = "agreement"


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


def visible_agreement(session: Session, scope: Scope, document_id: int) -> Document:
    """The agreement if the caller may see it; 404 otherwise, so ids cannot be probed."""
    doc = session.get(Document, document_id)
    if (
        doc is None
        or doc.kind != KIND
        or doc.term_id is None
        or not term_visible(session, scope, doc.term_id)
    ):
        raise NotFound(f"协议{document_id}不存在")
    return doc


def list_agreements(
    session: Session,
    scope: Scope,
    *,
    cohort_code: str | None = None,
    state: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Document]:
    """Agreements in scope, newest first; ``state`` filters on the signing state."""
    stmt: Any = scoped_terms(scope, select(Document).select_from(ServiceTerm)).where(
        col(Document.term_id) == ServiceTerm.id, Document.kind == KIND, Document.signing_state != ""
    )
    if cohort_code:
        stmt = stmt.where(Document.cohort_id == cohorts.get_by_code(session, cohort_code).id)
    if state:
        stmt = stmt.where(Document.signing_state == state)
    return list(session.exec(stmt.order_by(col(Document.id).desc()).offset(offset).limit(limit)).all())
