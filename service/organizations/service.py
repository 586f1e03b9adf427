"""Offices and units: find or create them in the region → league → county → unit tree."""

from __future__ import annotations

from sqlmodel import Session, select

from service.cohorts.rules import validate_credit_code
from storage.models import Organization, OrgKind

REGION_OFFICE_NAME = "内蒙古自治区西部计划项目办"


def _find(
    session: Session, kind: OrgKind, name: str, league: str | None, county: str | None
) -> Organization | None:
    stmt = select(Organization).where(Organization.kind == kind.value, Organization.name == name)
    stmt = (
        stmt.where(Organization.league == league)
        if league is not None
        else stmt.where(Organization.league.is_(None))
    )  # type: ignore[union-attr]
    stmt = (
        stmt.where(Organization.county == county)
        if county is not None
        else stmt.where(Organization.county.is_(None))
    )  # type: ignore[union-attr]
    return session.exec(stmt).first()


def get_or_create(
    session: Session,
    kind: OrgKind,
    name: str,
    *,
    league: str | None = None,
    county: str | None = None,
    parent: Organization | None = None,
    credit_code: str | None = None,
) -> tuple[Organization, bool]:
    """The organization with this identity, created (flushed) if missing; the bool says whether it was new."""
    found = _find(session, kind, name, league, county)
    if found is not None:
        return found, False
    org = Organization(
        kind=kind.value,
        name=name,
        league=league,
        county=county,
        parent_id=parent.id if parent else None,
        credit_code=validate_credit_code(credit_code) if credit_code else None,
    )
    session.add(org)
    session.flush()
    return org, True


def region_office(session: Session) -> Organization:
    return get_or_create(session, OrgKind.REGION_OFFICE, REGION_OFFICE_NAME)[0]


def league_office(session: Session, league: str) -> Organization:
    return get_or_create(
        session,
        OrgKind.LEAGUE_OFFICE,
        f"{league}西部计划项目办",
        league=league,
        parent=region_office(session),
    )[0]


def county_office(session: Session, league: str, county: str) -> Organization:
    parent = league_office(session, league)
    return get_or_create(
        session, OrgKind.COUNTY_OFFICE, f"{county}西部计划项目办", league=league, county=county, parent=parent
    )[0]
