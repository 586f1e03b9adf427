"""Offices and units: find or create them in the region → league → county → unit tree."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, func, select

from service.cohorts.regions import regions
from service.cohorts.rules import validate_credit_code
from service.errors import AppError, Conflict, NotFound
from service.users.scope import Scope, scoped_organizations
from storage.models import Organization, OrgKind

REGION_OFFICE_NAME = "内蒙古自治区西部计划项目办"


def _find(
    session: Session, kind: OrgKind, name: str, league: str | None, county: str | None
) -> Organization | None:
    stmt = select(Organization).where(Organization.kind == kind.value, Organization.name == name)
    league_col: Any = Organization.league
    county_col: Any = Organization.county
    stmt = stmt.where(league_col == league if league is not None else league_col.is_(None))
    stmt = stmt.where(county_col == county if county is not None else county_col.is_(None))
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


def list_scoped(
    session: Session,
    scope: Scope,
    *,
    kind: OrgKind | None = None,
    league: str | None = None,
    county: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Organization], int]:
    """Organizations ``scope`` may see, filtered, with the total before paging."""
    stmt = scoped_organizations(scope)
    if kind is not None:
        stmt = stmt.where(Organization.kind == kind.value)
    if league is not None:
        stmt = stmt.where(Organization.league == league)
    if county is not None:
        stmt = stmt.where(Organization.county == county)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(Organization.id).limit(limit).offset(offset)).all()
    return list(rows), total


def get_scoped(session: Session, scope: Scope, org_id: int) -> Organization:
    """One organization; out of scope reads the same as missing, so ids cannot be probed."""
    org = session.exec(scoped_organizations(scope).where(Organization.id == org_id)).first()
    if org is None:
        raise NotFound(f"单位（编号{org_id}）不存在")
    return org


def create_checked(
    session: Session,
    kind: OrgKind,
    name: str,
    *,
    league: str,
    county: str | None = None,
    credit_code: str | None = None,
) -> Organization:
    """Create a league office, county office or service unit at a real place, under its parent office."""
    if regions().league(league) is None:
        raise AppError(f"盟市“{league}”不在内蒙古自治区的盟市名单中", status=422, code="unknown_league")
    if kind is OrgKind.LEAGUE_OFFICE:
        if county is not None:
            raise AppError("盟市项目办不属于某个旗县，请不要填写旗县", status=422, code="bad_place")
        parent = region_office(session)
    elif kind in (OrgKind.COUNTY_OFFICE, OrgKind.SERVICE_UNIT):
        if county is None or county not in regions().league(league).counties:  # type: ignore[union-attr]
            raise AppError(f"旗县“{county or ''}”不属于{league}", status=422, code="unknown_county")
        parent = (
            league_office(session, league)
            if kind is OrgKind.COUNTY_OFFICE
            else county_office(session, league, county)
        )
    else:
        raise AppError(f"不能在此创建{kind.value}", status=422, code="bad_kind")
    if _find(session, kind, name, league, county) is not None:
        raise Conflict(f"{league}{county or ''}已有{kind.value}“{name}”")
    if credit_code:
        validate_credit_code(credit_code)
        if session.exec(select(Organization).where(Organization.credit_code == credit_code)).first():
            raise Conflict(f"统一社会信用代码{credit_code}已被其他单位使用")
    org, _ = get_or_create(
        session, kind, name, league=league, county=county, parent=parent, credit_code=credit_code
    )
    return org
