"""工作台: the cohort at a glance for the user's league, county or unit."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from service.documents.issuing import today_in_china
from service.web import readmodels
from service.web.deps import PageDB, PageScope, PageUser
from service.web.labels import AGREEMENT_STATES
from service.web.rendering import render
from service.web.routing import page_router

router = page_router()


@router.get("/dashboard")
def dashboard(request: Request, db: PageDB, user: PageUser, scope: PageScope, cohort: str = "") -> Response:
    chosen, every = readmodels.pick_cohort(db, cohort or None)
    overview = readmodels.overview(db, scope, chosen, today_in_china()) if chosen else None
    return render(
        request,
        "dashboard.html",
        {"overview": overview, "cohorts": every, "states": AGREEMENT_STATES, "scope": scope},
    )
