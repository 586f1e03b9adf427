"""What part of the programme a user may see. Every query over volunteers goes through ``scoped_terms``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from storage.models import Organization, Post, Role, ServiceTerm, User


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


def scope_for(session: Session, user: User) -> Scope:
    role = Role(user.role)
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    if role is Role.REGION_ADMIN:
        return Scope(role)
    if role is Role.VOLUNTEER:
        return Scope(role, volunteer_id=user.volunteer_id if user.volunteer_id is not None else -1)
    if org is None:
        # A misconfigured account sees nothing rather than everything.
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
