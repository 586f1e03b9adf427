"""Offices and service units: read within scope; the region office creates them."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CurrentScope, SessionDep, require_roles
from service.organizations import service
from service.organizations.schemas import OrganizationCreate, OrganizationRead
from service.pagination import Page, PageDep
from storage.models import OrgKind, Role

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.get("", response_model=Page[OrganizationRead])
def list_organizations(
    session: SessionDep,
    scope: CurrentScope,
    page: PageDep,
    kind: OrgKind | None = None,
    league: str | None = None,
    county: str | None = None,
) -> Page[OrganizationRead]:
    """Offices and units in the caller's scope."""
    orgs, total = service.list_scoped(
        session, scope, kind=kind, league=league, county=county, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[OrganizationRead.model_validate(o, from_attributes=True) for o in orgs],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{org_id}", response_model=OrganizationRead)
def get_organization(session: SessionDep, scope: CurrentScope, org_id: int) -> OrganizationRead:
    return OrganizationRead.model_validate(service.get_scoped(session, scope, org_id), from_attributes=True)


@router.post(
    "",
    response_model=OrganizationRead,
    status_code=201,
    dependencies=[require_roles(Role.REGION_ADMIN)],
)
def create_organization(session: SessionDep, body: OrganizationCreate) -> OrganizationRead:
    """Create a league office, county office or service unit (region admin only)."""
    org = service.create_checked(
        session,
        OrgKind(body.kind),
        body.name,
        league=body.league,
        county=body.county,
        credit_code=body.credit_code,
    )
    return OrganizationRead.model_validate(org, from_attributes=True)
