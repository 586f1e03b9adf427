"""Volunteers and their service terms, read through the caller's scope. Read-only: imports write them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, func, select

from service.cohorts.rules import mask_id_number, mask_phone, service_end
from service.errors import NotFound
from service.users.scope import Scope, scoped_terms
from service.volunteers.schemas import PostRead, TermRead, VolunteerRead
from storage.models import Cohort, Organization, Post, ServiceTerm, Volunteer


@dataclass(frozen=True)
class TermFilters:
    league: str | None = None
    county: str | None = None
    unit_id: int | None = None
    track: str | None = None
    project_type: str | None = None
    cohort: str | None = None  # cohort code, e.g. 2020-2021
    name: str | None = None  # part of the volunteer's name


def _apply(stmt: Any, f: TermFilters) -> Any:
    """Narrow a statement already joined to ServiceTerm and Post. Filters never widen the scope."""
    if f.league is not None:
        stmt = stmt.where(Post.league == f.league)
    if f.county is not None:
        stmt = stmt.where(Post.county == f.county)
    if f.unit_id is not None:
        stmt = stmt.where(Post.unit_id == f.unit_id)
    if f.track is not None:
        stmt = stmt.where(Post.track == f.track)
    if f.project_type is not None:
        stmt = stmt.where(ServiceTerm.project_type == f.project_type)
    if f.cohort is not None:
        stmt = stmt.where(ServiceTerm.cohort_id.in_(select(Cohort.id).where(Cohort.code == f.cohort)))  # type: ignore[attr-defined]
    if f.name:
        names = select(Volunteer.id).where(Volunteer.name.contains(f.name, autoescape=True))  # type: ignore[attr-defined]
        stmt = stmt.where(ServiceTerm.volunteer_id.in_(names))  # type: ignore[attr-defined]
    return stmt


def _term_rows(scope: Scope) -> Any:
    columns: tuple[Any, ...] = (ServiceTerm, Post, Cohort, Organization, Volunteer.name)
    stmt = scoped_terms(scope, select(*columns))
    return (
        stmt.join(Cohort, Cohort.id == ServiceTerm.cohort_id)
        .join(Organization, Organization.id == Post.unit_id)
        .join(Volunteer, Volunteer.id == ServiceTerm.volunteer_id)
    )


def _term_read(row: Any) -> TermRead:
    term, post, cohort, unit, volunteer_name = row
    return TermRead(
        id=term.id,
        volunteer_id=term.volunteer_id,
        volunteer_name=volunteer_name,
        cohort_id=cohort.id,
        cohort_code=cohort.code,
        project_type=term.project_type,
        graduate_teaching_corps=term.graduate_teaching_corps,
        report_date=term.report_date,
        agreed_years=term.agreed_years,
        service_end=service_end(term.report_date, term.agreed_years),
        post=PostRead(
            id=post.id,
            unit_id=post.unit_id,
            unit_name=unit.name,
            league=post.league,
            county=post.county,
            track=post.track,
            title=post.title,
            county_level=post.county_level,
        ),
    )


def _volunteer_read(volunteer: Volunteer, terms: list[TermRead], scope: Scope) -> VolunteerRead:
    full = scope.sees_full_id_numbers
    return VolunteerRead(
        id=volunteer.id or 0,
        id_number=volunteer.id_number if full else mask_id_number(volunteer.id_number),
        id_number_masked=not full,
        name=volunteer.name,
        sex=volunteer.sex,
        birth_date=volunteer.birth_date if full else None,
        ethnicity=volunteer.ethnicity,
        political_status=volunteer.political_status,
        phone=volunteer.phone if full else mask_phone(volunteer.phone),
        email=volunteer.email,
        university=volunteer.university,
        degree=volunteer.degree,
        major=volunteer.major,
        graduation=volunteer.graduation,
        terms=terms,
    )


def _terms_by_volunteer(
    session: Session, scope: Scope, volunteer_ids: list[int], f: TermFilters
) -> dict[int, list[TermRead]]:
    stmt = _apply(_term_rows(scope), f).where(ServiceTerm.volunteer_id.in_(volunteer_ids))  # type: ignore[attr-defined]
    found: dict[int, list[TermRead]] = {}
    for row in session.exec(stmt.order_by(ServiceTerm.id)).all():
        found.setdefault(row[0].volunteer_id, []).append(_term_read(row))
    return found


def list_volunteers(
    session: Session, scope: Scope, f: TermFilters, *, limit: int, offset: int
) -> tuple[list[VolunteerRead], int]:
    """Volunteers with a term in scope that matches the filters, each with those terms."""
    visible = _apply(scoped_terms(scope, select(ServiceTerm.volunteer_id)), f)
    stmt = select(Volunteer).where(Volunteer.id.in_(visible))  # type: ignore[union-attr]
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    volunteers = session.exec(stmt.order_by(Volunteer.id).limit(limit).offset(offset)).all()  # type: ignore[arg-type]
    terms = _terms_by_volunteer(session, scope, [v.id for v in volunteers if v.id is not None], f)
    return [_volunteer_read(v, terms.get(v.id or 0, []), scope) for v in volunteers], total


def get_volunteer(session: Session, scope: Scope, volunteer_id: int) -> VolunteerRead:
    """One volunteer with the terms in scope; none in scope reads as missing (404), so ids cannot be probed."""
    terms = _terms_by_volunteer(session, scope, [volunteer_id], TermFilters()).get(volunteer_id)
    volunteer = session.get(Volunteer, volunteer_id) if terms else None
    if volunteer is None or not terms:
        raise NotFound(f"志愿者（编号{volunteer_id}）不存在")
    return _volunteer_read(volunteer, terms, scope)


def list_terms(
    session: Session, scope: Scope, f: TermFilters, *, limit: int, offset: int
) -> tuple[list[TermRead], int]:
    stmt = _apply(_term_rows(scope), f)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(ServiceTerm.id).limit(limit).offset(offset)).all()
    return [_term_read(r) for r in rows], total


def get_term_row(session: Session, scope: Scope, term_id: int) -> ServiceTerm:
    """The term if ``scope`` may see it; out of scope reads the same as missing."""
    term = session.exec(scoped_terms(scope).where(ServiceTerm.id == term_id)).first()
    if term is None:
        raise NotFound(f"服务记录（编号{term_id}）不存在")
    return term


def get_term(session: Session, scope: Scope, term_id: int) -> TermRead:
    row = session.exec(_term_rows(scope).where(ServiceTerm.id == term_id)).first()
    if row is None:
        raise NotFound(f"服务记录（编号{term_id}）不存在")
    return _term_read(row)
