"""批量签发: start a cohort's notice batch, watch its progress, download the ZIP.

The progress bar is drawn by ``static/js/progress.js``, which polls the batch progress JSON API
(``GET /api/v1/documents/batches/{id}``) with the session cookie; without script the page refreshes
itself. Workers (``xibu worker``) do the issuing.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from service.documents import batches, flows
from service.documents.export import zip_stream
from service.errors import AppError
from service.web import readmodels
from service.web.deps import PageDB, PageForm, PageUser, page_roles, text
from service.web.rendering import redirect, render
from service.web.routing import page_router
from storage.models import Role

router = page_router(dependencies=[page_roles(Role.REGION_ADMIN)])


def _listing(db: PageDB, cohort: str) -> dict[str, Any]:
    """The cohort picker and the cohort's recent batches: the page as shown, and again with a refusal."""
    chosen, every = readmodels.pick_cohort(db, cohort or None)
    recent = readmodels.batches_of(db, chosen.id) if chosen and chosen.id else []
    return {"cohort": chosen, "cohorts": every, "batches": recent}


@router.get("/batches")
def batches_page(request: Request, db: PageDB, user: PageUser, cohort: str = "") -> Response:
    return render(request, "batches.html", _listing(db, cohort))


@router.post("/batches")
def start_batch(request: Request, db: PageDB, user: PageUser, form: PageForm) -> Response:
    """Start (or resume) the cohort's notices; the same flow as ``POST /api/v1/documents/batches``."""
    cohort = text(form, "cohort", max_length=9)
    try:
        batch = flows.start_batch(db, cohort, "notice", user_id=user.id)
    except AppError as exc:
        db.rollback()
        return render(
            request, "batches.html", {**_listing(db, cohort), "error": exc.message}, status=exc.status
        )
    return redirect(f"/batches/{batch.id}")


@router.get("/batches/{batch_id}")
def batch_page(request: Request, db: PageDB, user: PageUser, batch_id: int) -> Response:
    progress = batches.progress(db, batch_id)
    failures = batches.failures(db, batch_id, limit=50)
    return render(request, "batch.html", {"p": progress, "failures": failures})


@router.get("/batches/{batch_id}/zip")
def batch_zip(db: PageDB, user: PageUser, batch_id: int) -> Response:
    """Every live notice of the batch's cohort, as one ZIP streamed from the archive."""
    batches.get_batch(db, batch_id)
    headers = {"Content-Disposition": f'attachment; filename="batch-{batch_id}.zip"'}
    return StreamingResponse(zip_stream(batch_id), media_type="application/zip", headers=headers)
