"""批量签发: start a cohort's notice batch, watch its progress, download the ZIP.

The progress bar is drawn by ``static/js/progress.js``, which polls the batch progress JSON API
(``GET /api/v1/documents/batches/{id}``) with the session cookie; without script the page refreshes
itself. Workers (``xibu worker``) do the issuing.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from service.documents import batches
from service.documents.export import zip_stream
from service.errors import AppError
from service.web import readmodels
from service.web.deps import PageDB, PageForm, PageUser, page_roles, text
from service.web.rendering import redirect, render
from service.web.routing import page_router
from storage.models import Role

router = page_router(dependencies=[page_roles(Role.REGION_ADMIN)])


@router.get("/batches")
def batches_page(request: Request, db: PageDB, user: PageUser, cohort: str = "") -> Response:
    chosen, every = readmodels.pick_cohort(db, cohort or None)
    recent = readmodels.batches_of(db, chosen.id) if chosen and chosen.id else []
    return render(request, "batches.html", {"cohort": chosen, "cohorts": every, "batches": recent})


@router.post("/batches")
def start_batch(request: Request, db: PageDB, user: PageUser, form: PageForm) -> Response:
    """Start (or resume) the cohort's notices; the same call as ``POST /api/v1/documents/batches``."""
    from service.documents.tasks import issue_batch

    cohort = text(form, "cohort", max_length=9)
    try:
        batch = batches.start_batch(db, cohort, "notice", user_id=user.id)
    except AppError as exc:
        db.rollback()
        chosen, every = readmodels.pick_cohort(db, cohort or None)
        recent = readmodels.batches_of(db, chosen.id) if chosen and chosen.id else []
        context = {"cohort": chosen, "cohorts": every, "batches": recent, "error": exc.message}
        return render(request, "batches.html", context, status=exc.status)
    assert batch.id is not None
    db.commit()  # workers must see the batch: queue it only once it is committed
    if batch.status == "running":
        for _ in range(2):  # two jobs, so two workers can share the batch
            issue_batch(batch.id)
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
