"""Volunteers and service terms, read-only and always through the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.deps import CurrentScope, SessionDep
from service.pagination import Page, PageDep
from service.volunteers import service
from service.volunteers.schemas import TermRead, VolunteerRead
from service.volunteers.service import TermFilters

router = APIRouter(tags=["volunteers"])


def _filters(
    league: Annotated[str | None, Query(description="服务盟市")] = None,
    county: Annotated[str | None, Query(description="服务旗县")] = None,
    unit_id: Annotated[int | None, Query(description="服务单位编号")] = None,
    track: Annotated[str | None, Query(description="专项")] = None,
    project_type: Annotated[str | None, Query(description="全国项目 / 地方项目")] = None,
    cohort: Annotated[str | None, Query(description="年度，如 2020-2021")] = None,
    name: Annotated[str | None, Query(description="姓名（部分匹配）")] = None,
) -> TermFilters:
    return TermFilters(league, county, unit_id, track, project_type, cohort, name)


FiltersDep = Annotated[TermFilters, Depends(_filters)]


@router.get("/volunteers", response_model=Page[VolunteerRead])
def list_volunteers(
    session: SessionDep, scope: CurrentScope, page: PageDep, filters: FiltersDep
) -> Page[VolunteerRead]:
    """Volunteers in the caller's scope with their terms; ID and phone numbers masked for roles that do not need them."""
    items, total = service.list_volunteers(session, scope, filters, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/volunteers/{volunteer_id}", response_model=VolunteerRead)
def get_volunteer(session: SessionDep, scope: CurrentScope, volunteer_id: int) -> VolunteerRead:
    return service.get_volunteer(session, scope, volunteer_id)


@router.get("/terms", response_model=Page[TermRead])
def list_terms(
    session: SessionDep, scope: CurrentScope, page: PageDep, filters: FiltersDep
) -> Page[TermRead]:
    """Service terms in the caller's scope, with post and unit."""
    items, total = service.list_terms(session, scope, filters, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/terms/{term_id}", response_model=TermRead)
def get_term(session: SessionDep, scope: CurrentScope, term_id: int) -> TermRead:
    return service.get_term(session, scope, term_id)
