"""The public verification pages, the only ones: ``/v`` (type a code or upload a PDF), ``/v/{code}``
(the statement; the QR code's target), the identity form and the upload form.

They are site pages (service.web): the page route class gives every visitor a session cookie and
refuses a POST without its CSRF token, and they render with the site's Jinja environment and
layout. Each handler is one call into service.py or upload.py, the same functions as the JSON API
(routes.py), and shares its rate limits. ``/verify``, the site's earlier address, redirects here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from service.config import get_settings
from service.errors import AppError
from service.verification import limits, service
from service.verification.routes import NO_STORE, upload_limiter, verifier
from service.verification.schemas import IdentityQuestion, Statement
from service.verification.upload import UploadReport, verify_upload
from service.web.deps import MaybeViewer, PageForm, text, upload
from service.web.rendering import render
from service.web.routing import page_router
from storage.archive import Archive
from storage.db import get_engine, session_scope

router = page_router(tags=["verification pages"])

STATUS_CLASS = {
    "valid": "ok",
    "signing": "warn",
    "declined": "bad",
    "revoked": "bad",
    "superseded": "warn",
    "not_found": "none",
}

_REFUSED_TITLE = {413: "文件过大", 429: "请稍后再试"}


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A verification page: never cached (a revocation shows at once), no referrer (the code is in the path)."""
    context.setdefault("max_upload_mb", get_settings().max_upload_bytes // (1024 * 1024))
    response = render(request, f"verification/{name}", context, status=status)
    response.headers.update(NO_STORE)
    return response


def _statement(
    request: Request,
    typed: str,
    statement: Statement,
    *,
    status: int | None = None,
    asked: str = "name",
    identity: str | None = None,
    identity_error: str | None = None,
) -> HTMLResponse:
    """Unknown and malformed codes get the same page, with 404."""
    if status is None:
        status = 404 if statement.status_code == "not_found" else 200
    return _page(
        request,
        "statement.html",
        status,
        s=statement,
        typed=typed,
        status_class=STATUS_CLASS[statement.status_code],
        asked=asked,
        identity=identity,
        identity_error=identity_error,
        checked_at=datetime.now(UTC),
    )


def _refused(request: Request, exc: AppError) -> HTMLResponse:
    """429 (with Retry-After) or 413, as a page that still offers both ways in."""
    title = _REFUSED_TITLE.get(exc.status, "无法核验")
    response = _page(request, "message.html", exc.status, title=title, message=exc.message)
    wait = exc.extra.get("retry_after")
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


@router.get("/v")
def entry_page(request: Request, viewer: MaybeViewer, code: str = "") -> Response:
    """The entry page; a typed code goes on to its own page, so the address can be shared."""
    typed = code.strip()
    if typed:
        return RedirectResponse(f"/v/{quote(typed[:100], safe='')}", status_code=303)
    return _page(request, "entry.html")


@router.post("/v/upload")
async def upload_page(request: Request, viewer: MaybeViewer, form: PageForm) -> Response:
    """A PDF from the upload form: every check of the upload validation, passed or failed with its reason."""
    try:
        limits.limit(request, upload_limiter(), "文件验证")
        pdf = await upload(form, "file", get_settings().max_upload_bytes)
    except AppError as exc:
        return _refused(request, exc)
    if pdf is None:
        return _page(request, "entry.html", 400, error="请选择要核验的 PDF 文件")
    filename, data = pdf
    actor = verifier(request)

    def run() -> UploadReport:  # ~0.1–0.5 s of CPU: off the event loop
        with session_scope() as session:
            return verify_upload(session, Archive.at(get_settings().data_dir), data, actor=actor)

    report = await run_in_threadpool(run)
    return _page(request, "upload.html", report=report, filename=filename[:200])


@router.get("/v/{code:path}")
async def statement_page(request: Request, viewer: MaybeViewer, code: str) -> Response:
    """The statement for ``code``. As lean as the JSON lookup: its one query (batched with others on
    PostgreSQL), the once-per-document build in a worker thread, no write (a session lives in its
    cookie only)."""
    try:
        limits.limit(request, limits.lookup_limiter())
    except AppError as exc:
        return _refused(request, exc)
    engine = get_engine()
    rows = await service.query_async(engine, code)
    found = service.cached(rows)
    if found is None:
        found = await run_in_threadpool(service.build, engine, rows)
    return _statement(request, code, found.statement)


@router.post("/v/{code}/identity")
def identity_page(request: Request, viewer: MaybeViewer, form: PageForm, code: str) -> Response:
    """The identity check: the same statement, with 一致 or 不一致 under the masked name."""
    found = service.lookup(get_engine(), code)
    asked = "id_number" if text(form, "field", max_length=20) == "id_number" else "name"
    try:
        limits.limit(request, limits.identity_limiter(), "身份核对")
        question = IdentityQuestion.model_validate({asked: text(form, "value", max_length=50)})
        with session_scope() as session:
            answer = service.check_identity(
                session, code, question, verifier(request), per_document=limits.document_identity_limiter()
            )
    except AppError as exc:
        response = _statement(
            request, code, found.statement, status=exc.status, asked=asked, identity_error=exc.message
        )
        if (wait := exc.extra.get("retry_after")) is not None:
            response.headers["Retry-After"] = str(wait)
        return response
    except ValueError:
        return _statement(
            request, code, found.statement, status=422, asked=asked, identity_error="请填写姓名或身份证号"
        )
    return _statement(request, code, found.statement, asked=asked, identity=answer.result)


# The site's earlier address for these pages: old links and bookmarks still arrive.
@router.get("/verify")
def old_entry(request: Request) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/v{query}", status_code=301)


@router.post("/verify")
def old_upload() -> Response:
    """A form from a page opened before the move: 308 keeps the method and the body (and its token)."""
    return RedirectResponse("/v/upload", status_code=308)
