"""What part of the programme a user may see. Every query over volunteers goes through ``scoped_terms``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from storage.models import Organization, OrgKind, Post, Role, ServiceTerm, User


@dataclass(frozen=True)
class Scope:
    """A region admin sees all; offices their league or county; units their own posts; volunteers themselves."""

    role: Role
    league: str | None = None
    county: str | None = None
    unit_id: int | None = None
    volunteer_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.REGION_ADMIN

    @property
    def sees_full_id_numbers(self) -> bool:
        """Offices that run appraisals and sign agreements need the number; units and lists elsewhere do not."""
        return self.role in (Role.REGION_ADMIN, Role.COUNTY_OFFICE, Role.VOLUNTEER)


# Which kind of organization each office or unit role must belong to.
_ORG_KIND_FOR_ROLE = {
    Role.LEAGUE_OFFICE: OrgKind.LEAGUE_OFFICE,
    Role.COUNTY_OFFICE: OrgKind.COUNTY_OFFICE,
    Role.SERVICE_UNIT: OrgKind.SERVICE_UNIT,
}


def scope_for(session: Session, user: User) -> Scope:
    role = Role(user.role)
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    if role is Role.REGION_ADMIN:
        return Scope(role)
    if role is Role.VOLUNTEER:
        return Scope(role, volunteer_id=user.volunteer_id if user.volunteer_id is not None else -1)
    if org is None or org.kind != _ORG_KIND_FOR_ROLE[role].value:
        # A misconfigured account (no organization, or one of the wrong kind) sees nothing rather than
        # whatever the organization's place would open up.
        return Scope(role, league="", county="", unit_id=-1)
    if role is Role.LEAGUE_OFFICE:
        return Scope(role, league=org.league or "")
    if role is Role.COUNTY_OFFICE:
        return Scope(role, league=org.league, county=org.county or "")
    return Scope(role, unit_id=org.id)


def scoped_terms(scope: Scope, statement: Any = None) -> Any:
    """Restrict a select over ServiceTerm (joined to Post) to what ``scope`` may see."""
    stmt = statement if statement is not None else select(ServiceTerm)
    stmt = stmt.join(Post, Post.id == ServiceTerm.post_id)  # type: ignore[arg-type]
    if scope.is_admin:
        return stmt
    if scope.role is Role.VOLUNTEER:
        return stmt.where(ServiceTerm.volunteer_id == scope.volunteer_id)
    if scope.role is Role.LEAGUE_OFFICE:
        return stmt.where(Post.league == scope.league)
    if scope.role is Role.COUNTY_OFFICE:
        return stmt.where(Post.county == scope.county, Post.league == scope.league)
    return stmt.where(Post.unit_id == scope.unit_id)


def scoped_appraisals(scope: Scope, statement: Any = None) -> Any:
    """Restrict a select over Appraisal to appraisals of terms ``scope`` may see."""
    from storage.models import Appraisal

    stmt = statement if statement is not None else select(Appraisal)
    stmt = stmt.join(ServiceTerm, ServiceTerm.id == Appraisal.term_id)  # type: ignore[arg-type]
    return scoped_terms(scope, stmt)


def scoped_organizations(scope: Scope, statement: Any = None) -> Any:
    """Restrict a select over Organization: offices see their subtree, units themselves, volunteers their units.

    A league office sees every office and unit in its league, a county office those in its county.
    """
    stmt = statement if statement is not None else select(Organization)
    if scope.is_admin:
        return stmt
    if scope.role is Role.VOLUNTEER:
        units = scoped_terms(scope, select(Post.unit_id).select_from(ServiceTerm)).scalar_subquery()
        return stmt.where(Organization.id.in_(units))  # type: ignore[union-attr]
    if scope.role is Role.LEAGUE_OFFICE:
        return stmt.where(Organization.league == scope.league)
    if scope.role is Role.COUNTY_OFFICE:
        return stmt.where(Organization.league == scope.league, Organization.county == scope.county)
    return stmt.where(Organization.id == scope.unit_id)


def term_visible(session: Session, scope: Scope, term_id: int) -> bool:
    """Whether one service term is inside ``scope`` (the single-object form of ``scoped_terms``)."""
    stmt = scoped_terms(scope, select(ServiceTerm.id)).where(ServiceTerm.id == term_id)
    return session.exec(stmt).first() is not None
