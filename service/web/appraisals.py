"""年度考核: a county's volunteers with a grade each, the cohort's 20% 优秀 cap shown above them.

The cap is enforced by :func:`service.appraisals.service.record` (all grades of a submission are
written or none); the page shows the counts and, when a submission would pass the cap, the refusal.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from service.appraisals import service as appraisals
from service.appraisals.schemas import AppraisalIn
from service.cohorts.rules import EXCELLENT_CAP
from service.errors import AppError, Forbidden
from service.users.scope import Scope
from service.volunteers.service import TermFilters, list_terms
from service.web import readmodels
from service.web.deps import OFFICES, PageDB, PageForm, PageScope, PageUser, page_roles, text
from service.web.rendering import redirect, render
from service.web.routing import page_router
from storage.models import Role, User

router = page_router(dependencies=[page_roles(*OFFICES)])
_RECORDERS = (Role.REGION_ADMIN, Role.COUNTY_OFFICE)
_MAX_ROWS = 1000


def _year(value: str) -> int:
    return int(value) if value in ("1", "2", "3") else 1


def _sheet(
    db: PageDB,
    user: User,
    scope: Scope,
    cohort: str,
    year: int,
    county: str,
    values: dict[int, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Everything the page shows: the county's serving volunteers for the year, their grades, the cap."""
    chosen, every = readmodels.pick_cohort(db, cohort or None)
    places = readmodels.places(db, scope)
    # A county office grades its own county; others pick one (a whole region would be 1,300 rows).
    county = scope.county if scope.county else county
    league = next((lg for lg, ct in places if ct == county), None)
    rows: list[dict[str, Any]] = []
    summary = None
    if chosen is not None and county:
        summary = appraisals.cap_summary(db, chosen.code, year)
        terms, _ = list_terms(
            db,
            scope,
            TermFilters(cohort=chosen.code, league=league, county=county),
            limit=_MAX_ROWS,
            offset=0,
        )
        recorded, _ = appraisals.list_appraisals(
            db, scope, cohort=chosen.code, term_id=None, service_year=year, grade=None, limit=5000, offset=0
        )
        by_term = {a.term_id: a for a in recorded}
        for t in terms:
            if t.agreed_years < year:
                continue  # not serving a year N: not graded for it
            current = by_term.get(t.id)
            grade, remarks = (current.grade, current.remarks or "") if current else ("", "")
            shown = (values or {}).get(t.id, (grade, remarks))
            rows.append({"term": t, "grade": grade, "value": shown[0], "remarks": shown[1]})
    return {
        "cohort": chosen,
        "cohorts": every,
        "year": year,
        "county": county,
        "places": places,
        "rows": rows,
        "summary": summary,
        "grades": list(appraisals.grade_scale(db).values()),
        "cap_percent": round(EXCELLENT_CAP * 100),
        "can_record": Role(user.role) in _RECORDERS,
        "fixed_county": bool(scope.county),
    }


@router.get("/appraisals")
def appraisals_page(
    request: Request,
    db: PageDB,
    user: PageUser,
    scope: PageScope,
    cohort: str = "",
    year: str = "1",
    county: str = "",
    saved: int | None = None,
) -> Response:
    context = _sheet(db, user, scope, cohort, _year(year), county)
    notice = f"已保存{saved}条考核结果。" if saved is not None else None
    return render(request, "appraisals.html", {**context, "notice": notice})


def _submitted(form: FormData) -> tuple[list[AppraisalIn], dict[int, tuple[str, str]]]:
    """The grades that changed on the page (a grade left as it was is not written again)."""
    items: list[AppraisalIn] = []
    values: dict[int, tuple[str, str]] = {}
    year = _year(text(form, "year", max_length=1))
    for key in form:
        if not key.startswith("grade-") or not key[6:].isdigit():
            continue
        term_id = int(key[6:])
        grade = text(form, key, max_length=20)
        remarks = text(form, f"remarks-{term_id}", max_length=500)
        values[term_id] = (grade, remarks)
        before = (text(form, f"was-{term_id}", max_length=20), text(form, f"wasr-{term_id}", max_length=500))
        if grade and (grade, remarks) != before:
            items.append(
                AppraisalIn(term_id=term_id, service_year=year, grade=grade, remarks=remarks or None)
            )
    return items, values


@router.post("/appraisals")
def record_appraisals(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm
) -> Response:
    if Role(user.role) not in _RECORDERS:
        raise Forbidden("只有旗县项目办和自治区项目办可以录入考核结果")
    cohort, year, county = (
        text(form, "cohort", max_length=9),
        _year(text(form, "year", max_length=1)),
        text(form, "county", max_length=30),
    )
    items, values = _submitted(form)
    try:
        if items:
            appraisals.record(db, scope, user.id, items)
    except AppError as exc:
        db.rollback()
        context = _sheet(db, user, scope, cohort, year, county, values)
        return render(request, "appraisals.html", {**context, "error": exc.message}, status=exc.status)
    return redirect(f"/appraisals?cohort={cohort}&year={year}&county={county}&saved={len(items)}")
