"""Cohorts (年度): any signed-in user may read them; only the region office creates them."""

from __future__ import annotations

from fastapi import APIRouter

from service.cohorts import service
from service.cohorts.schemas import CohortCreate, CohortRead
from service.deps import CurrentUser, SessionDep, require_roles
from storage.models import Role

router = APIRouter(prefix="/cohorts", tags=["cohorts"])


@router.get("", response_model=list[CohortRead])
def list_cohorts(session: SessionDep, _user: CurrentUser) -> list[CohortRead]:
    """Every cohort, newest first. Cohorts carry no personal data, so every role sees all."""
    return [CohortRead.model_validate(c, from_attributes=True) for c in service.list_all(session)]


@router.get("/{cohort_id}", response_model=CohortRead)
def get_cohort(session: SessionDep, _user: CurrentUser, cohort_id: int) -> CohortRead:
    return CohortRead.model_validate(service.get(session, cohort_id), from_attributes=True)


@router.post("", response_model=CohortRead, status_code=201, dependencies=[require_roles(Role.REGION_ADMIN)])
def create_cohort(session: SessionDep, body: CohortCreate) -> CohortRead:
    """Create a cohort; deadlines default to the plan's calendar (Jul 20–31 report, Aug 14 signing)."""
    cohort = service.create(session, **body.model_dump())
    return CohortRead.model_validate(cohort, from_attributes=True)
