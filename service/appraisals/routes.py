"""Annual appraisals: county offices grade their county's volunteers, the region office anyone's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from service.appraisals import service
from service.appraisals.schemas import (
    AppraisalBulkIn,
    AppraisalIn,
    AppraisalRead,
    CapSummary,
    GradeRead,
    TermEligibility,
)
from service.deps import CurrentScope, CurrentUser, SessionDep, require_roles
from service.pagination import Page, PageDep
from storage.models import Role

router = APIRouter(tags=["appraisals"])

_RECORDERS = require_roles(Role.REGION_ADMIN, Role.COUNTY_OFFICE)
_OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)


def _read(a: object) -> AppraisalRead:
    return AppraisalRead.model_validate(a, from_attributes=True)


@router.get("/appraisals/grades", response_model=list[GradeRead])
def list_grades(session: SessionDep, _user: CurrentUser) -> list[GradeRead]:
    """The grade scale, best first."""
    return [GradeRead.model_validate(g, from_attributes=True) for g in service.grade_scale(session).values()]


@router.post("/appraisals", response_model=AppraisalRead, status_code=201, dependencies=[_RECORDERS])
def record_appraisal(
    session: SessionDep, user: CurrentUser, scope: CurrentScope, body: AppraisalIn
) -> AppraisalRead:
    """Record one term's grade for a service year; 409 when 优秀 would pass 20% of the cohort's serving volunteers."""
    return _read(service.record(session, scope, user.id, [body])[0])


@router.post(
    "/appraisals/bulk", response_model=list[AppraisalRead], status_code=201, dependencies=[_RECORDERS]
)
def record_appraisals(
    session: SessionDep, user: CurrentUser, scope: CurrentScope, body: AppraisalBulkIn
) -> list[AppraisalRead]:
    """Record many grades in one request: all are written or, on any refusal, none."""
    return [_read(a) for a in service.record(session, scope, user.id, body.items)]


@router.get("/appraisals", response_model=Page[AppraisalRead])
def list_appraisals(
    session: SessionDep,
    scope: CurrentScope,
    page: PageDep,
    cohort: str | None = None,
    term_id: int | None = None,
    service_year: Annotated[int | None, Query(ge=1, le=3)] = None,
    grade: str | None = None,
) -> Page[AppraisalRead]:
    """Appraisals of terms in the caller's scope."""
    rows, total = service.list_appraisals(
        session,
        scope,
        cohort=cohort,
        term_id=term_id,
        service_year=service_year,
        grade=grade,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=[_read(a) for a in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/appraisals/summary", response_model=CapSummary, dependencies=[_OFFICES])
def appraisal_summary(
    session: SessionDep, cohort: str, service_year: Annotated[int, Query(ge=1, le=3)] = 1
) -> CapSummary:
    """Cohort-wide 优秀 count against the 20% cap. Offices see the whole cohort: the cap is shared."""
    return service.cap_summary(session, cohort, service_year)


@router.get("/terms/{term_id}/eligibility", response_model=TermEligibility)
def term_eligibility(session: SessionDep, scope: CurrentScope, term_id: int) -> TermEligibility:
    """Postgraduate +10 points and fresh-graduate treatment (实施方案 三(一)1–2) for one term."""
    return service.eligibility(session, scope, term_id, date.today())
