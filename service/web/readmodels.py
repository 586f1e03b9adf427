"""Read-only, scoped queries the pages need beyond what the domain services already return.

Every query starts from ``scoped_terms`` (or ``scoped_organizations``), so a page can never show
what the user's league, county or unit does not cover. Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from service.users.scope import Scope, scoped_organizations, scoped_terms
from service.web.labels import AGREEMENT_STATES, agreement_state
from storage.models import (
    Batch,
    Cohort,
    Document,
    Organization,
    OrgKind,
    Post,
    RequestStatus,
    ServiceTerm,
    SigningRequest,
    Volunteer,
)


def cohorts(session: Session) -> list[Cohort]:
    """Every cohort, newest first (cohorts are programme years, not personal data)."""
    return list(session.exec(select(Cohort).order_by(col(Cohort.start_year).desc())).all())


def pick_cohort(session: Session, code: str | None) -> tuple[Cohort | None, list[Cohort]]:
    """The cohort asked for, else the newest; with the list for the selector."""
    every = cohorts(session)
    chosen = next((c for c in every if c.code == code), None) if code else None
    return chosen or (every[0] if every else None), every


def _signed_exists() -> Any:
    return exists().where(
        col(SigningRequest.document_id) == Document.id,
        col(SigningRequest.status) == RequestStatus.SIGNED.value,
    )


def _agreements_in_scope(scope: Scope, cohort_id: int, columns: tuple[Any, ...]) -> Any:
    base = select(*columns).select_from(Document).join(ServiceTerm, col(ServiceTerm.id) == Document.term_id)
    return scoped_terms(scope, base).where(
        Document.kind == "agreement",
        Document.signing_state != "",
        Document.cohort_id == cohort_id,
    )


@dataclass(frozen=True)
class OverdueRow:
    document_id: int
    number: str
    volunteer: str
    league: str
    county: str
    unit: str
    turn: str | None
    reason: str


@dataclass
class Overview:
    cohort: Cohort
    volunteers: int
    notices: int
    agreements: dict[str, int]
    days_to_deadline: int
    overdue: list[OverdueRow] = field(default_factory=list)

    @property
    def agreements_total(self) -> int:
        return sum(self.agreements.values())


def overview(session: Session, scope: Scope, cohort: Cohort, today: date, *, limit: int = 50) -> Overview:
    """The cohort at a glance for ``scope``: people, notices, agreements by state, what is overdue.

    An agreement is overdue when it is still being signed and either the cohort's signing deadline
    (实施方案 二(三)3) has passed or the link of the party whose turn it is has expired.
    """
    assert cohort.id is not None
    volunteers = session.exec(
        scoped_terms(scope, select(func.count(col(ServiceTerm.id)))).where(ServiceTerm.cohort_id == cohort.id)
    ).one()
    notices = session.exec(
        scoped_terms(scope, select(func.count(col(Document.id))).select_from(ServiceTerm)).where(
            col(Document.term_id) == ServiceTerm.id,
            Document.kind == "notice",
            Document.status == "issued",
            Document.cohort_id == cohort.id,
        )
    ).one()
    states: Counter[str] = Counter({key: 0 for key in AGREEMENT_STATES})
    # One small row per agreement (a cohort has ~1,300): simpler and as fast as grouping by an EXISTS.
    for signing_state, any_signed in session.exec(
        _agreements_in_scope(scope, cohort.id, (Document.signing_state, _signed_exists().label("signed")))
    ).all():
        states[agreement_state(signing_state, 1 if any_signed else 0)] += 1

    now = datetime.now(UTC)
    past_deadline = today > cohort.signing_deadline
    open_request = select(SigningRequest).where(SigningRequest.status == RequestStatus.OPEN.value).subquery()
    stmt = (
        _agreements_in_scope(
            scope,
            cohort.id,
            (
                Document.id,
                Document.number,
                Volunteer.name,
                Post.league,
                Post.county,
                Organization.name,
                open_request.c.party,
                open_request.c.token_expires_at,
            ),
        )
        .join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id)
        .join(Organization, col(Organization.id) == Post.unit_id)
        .outerjoin(open_request, open_request.c.document_id == Document.id)
        .where(Document.signing_state == "pending")
        .order_by(col(Document.id))
    )
    if not past_deadline:
        stmt = stmt.where(open_request.c.token_expires_at < now)
    overdue = []
    for doc_id, number, name, league, county, unit, party, expires in session.exec(stmt.limit(limit)).all():
        expired = expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) < now
        reason = "已过签署截止日期" if past_deadline else ""
        if expired:
            reason = (reason + "；" if reason else "") + "签署链接已过期"
        overdue.append(OverdueRow(doc_id, number, name, league, county, unit, party, reason))
    return Overview(
        cohort=cohort,
        volunteers=volunteers,
        notices=notices,
        agreements=dict(states),
        days_to_deadline=(cohort.signing_deadline - today).days,
        overdue=overdue,
    )


# ---------------------------------------------------------------------------------------------
# Agreements list


@dataclass(frozen=True)
class AgreementFilters:
    cohort_id: int
    league: str | None = None
    county: str | None = None
    unit_id: int | None = None
    state: str | None = None  # a key of AGREEMENT_STATES


@dataclass(frozen=True)
class AgreementRow:
    document: Document
    volunteer: str
    league: str
    county: str
    unit: str
    state: str
    turn: str | None
    signed: int
    parties: int


def agreement_rows(
    session: Session, scope: Scope, f: AgreementFilters, *, limit: int = 100, offset: int = 0
) -> tuple[list[AgreementRow], int]:
    """Agreements in scope matching the filters, newest first, with the total for paging."""
    stmt = (
        _agreements_in_scope(scope, f.cohort_id, (Document, Volunteer.name, Post.league, Post.county, Organization.name))
        .join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id)
        .join(Organization, col(Organization.id) == Post.unit_id)
    )  # fmt: skip
    if f.league:
        stmt = stmt.where(Post.league == f.league)
    if f.county:
        stmt = stmt.where(Post.county == f.county)
    if f.unit_id is not None:
        stmt = stmt.where(Post.unit_id == f.unit_id)
    if f.state in ("unsigned", "partial"):
        signed = _signed_exists()
        stmt = stmt.where(Document.signing_state == "pending", signed if f.state == "partial" else ~signed)
    elif f.state:
        stmt = stmt.where(Document.signing_state == f.state)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    found = session.exec(stmt.order_by(col(Document.id).desc()).offset(offset).limit(limit)).all()
    ids = [doc.id for doc, *_ in found]
    requests: dict[int, list[SigningRequest]] = {}
    if ids:
        for r in session.exec(
            select(SigningRequest)
            .where(col(SigningRequest.document_id).in_(ids))
            .order_by(col(SigningRequest.position))
        ).all():
            requests.setdefault(r.document_id, []).append(r)
    rows = []
    for doc, name, league, county, unit in found:
        reqs = requests.get(doc.id or 0, [])
        signed = sum(r.status == RequestStatus.SIGNED.value for r in reqs)
        turn = next((r.party for r in reqs if r.status == RequestStatus.OPEN.value), None)
        state = agreement_state(doc.signing_state, signed)
        rows.append(AgreementRow(doc, name, league, county, unit, state, turn, signed, len(reqs)))
    return rows, total


@dataclass(frozen=True)
class AgreementContext:
    volunteer: str
    league: str
    county: str
    unit: str


def agreement_context(session: Session, term_id: int) -> AgreementContext | None:
    """Who and where an agreement is about (call only after the scope check on the document)."""
    row = session.exec(
        select(Volunteer.name, Post.league, Post.county, Organization.name)
        .select_from(ServiceTerm)
        .join(Volunteer, col(Volunteer.id) == ServiceTerm.volunteer_id)
        .join(Post, col(Post.id) == ServiceTerm.post_id)
        .join(Organization, col(Organization.id) == Post.unit_id)
        .where(ServiceTerm.id == term_id)
    ).first()
    return AgreementContext(*row) if row else None


def units(session: Session, scope: Scope, *, league: str | None, county: str | None) -> list[Organization]:
    """Service units in scope (for a filter), narrowed to a league or county when one is chosen."""
    stmt = scoped_organizations(scope).where(Organization.kind == OrgKind.SERVICE_UNIT.value)
    if league:
        stmt = stmt.where(Organization.league == league)
    if county:
        stmt = stmt.where(Organization.county == county)
    return list(session.exec(stmt.order_by(col(Organization.name)).limit(500)).all())


def places(session: Session, scope: Scope) -> list[tuple[str, str]]:
    """(league, county) pairs where ``scope`` has service posts, for the filters."""
    stmt = scoped_terms(scope, select(Post.league, Post.county).select_from(ServiceTerm)).distinct()
    return sorted(session.exec(stmt).all())


def batches_of(session: Session, cohort_id: int, *, limit: int = 20) -> list[Batch]:
    """The cohort's issuance batches, newest first (batches are the region office's, unscoped)."""
    stmt = select(Batch).where(Batch.cohort_id == cohort_id).order_by(col(Batch.id).desc()).limit(limit)
    return list(session.exec(stmt).all())
