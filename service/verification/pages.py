"""The public verification pages: ``/v/{code}`` (the QR code's target) and ``/v`` (type a code).

Server-rendered, Chinese, readable on a 375 px phone, no scripts and nothing from other sites.
The pages call the same service functions as the JSON API; every value is escaped by Jinja's
autoescape. The PDF upload form posts to ``/v/upload``, which shows every check of the upload
validation (service.verification.upload), the same as ``POST /api/v1/verify``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from doc_templates.context import cn_date
from service.config import get_settings
from service.errors import AppError
from service.verification import limits, service
from service.verification.routes import NO_STORE, upload_limiter, verifier
from service.verification.schemas import IdentityQuestion, Statement
from service.verification.statement import to_china
from service.verification.upload import UploadReport, verify_upload
from storage.archive import Archive
from storage.db import get_engine, session_scope

router = APIRouter(tags=["verification pages"], include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）" if moment else "—"


def _day(day: date | None) -> str:
    return cn_date(day) if day else "—"


_env.filters["when"] = _when
_env.filters["day"] = _day

STATUS_CLASS = {
    "valid": "ok",
    "signing": "warn",
    "declined": "bad",
    "revoked": "bad",
    "superseded": "warn",
    "not_found": "none",
}


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _statement_page(
    typed: str, statement: Statement, *, identity: str | None = None, identity_error: str | None = None
) -> HTMLResponse:
    return render(
        "statement.html",
        status=404 if statement.status_code == "not_found" else 200,
        s=statement,
        typed=typed,
        status_class=STATUS_CLASS[statement.status_code],
        identity=identity,
        identity_error=identity_error,
        checked_at=to_china(datetime.now(UTC)),
    )


@router.get("/v", response_class=HTMLResponse)
def verify_form(request: Request, code: str | None = None) -> Response:
    """The empty form; a submitted code goes to its own page, so the address can be shared."""
    if code and code.strip():
        return RedirectResponse(f"/v/{quote(code.strip()[:100], safe='')}", status_code=303)
    return render("form.html")


@router.get("/v/{code:path}", response_class=HTMLResponse)
def verify_page(request: Request, code: str) -> HTMLResponse:
    """The statement for ``code``, as a page."""
    try:
        limits.limit(request, limits.lookup_limiter())
    except AppError as exc:
        return _refused(exc)
    found = service.lookup(get_engine(), code)
    return _statement_page(code, found.statement)


@router.post("/v/{code}/identity", response_class=HTMLResponse)
def verify_identity_page(
    request: Request, code: str, field: str = Form(...), value: str = Form("", max_length=50)
) -> HTMLResponse:
    """The identity check from the page's form: the same statement, with 一致 or 不一致 under the name."""
    found = service.lookup(get_engine(), code)
    question = {"name": value} if field == "name" else {"id_number": value}
    try:
        limits.limit(request, limits.identity_limiter(), "身份核对")
        asked = IdentityQuestion.model_validate(question)
        with session_scope() as session:
            answer = service.check_identity(
                session, code, asked, verifier(request), per_document=limits.document_identity_limiter()
            )
    except AppError as exc:
        return _statement_page(code, found.statement, identity_error=exc.message)
    except ValueError:
        return _statement_page(code, found.statement, identity_error="请填写姓名或身份证号")
    return _statement_page(code, found.statement, identity=answer.result)


def _refused(exc: AppError) -> HTMLResponse:
    response = render("message.html", status=exc.status, title="请稍后再试", message=exc.message)
    wait = exc.extra.get("retry_after")
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


@router.post("/v/upload", response_class=HTMLResponse)
async def upload_page(request: Request, file: UploadFile) -> HTMLResponse:
    """A PDF uploaded from the page: every check of the upload validation (service.verification.upload)."""
    try:
        limits.limit(request, upload_limiter(), "文件验证")
    except AppError as exc:
        return _refused(exc)
    limit_bytes = get_settings().max_upload_bytes
    data = await file.read(limit_bytes + 1)
    if len(data) > limit_bytes:
        message = f"文件超过{limit_bytes // (1024 * 1024)} MB，不能核验"
        return render("message.html", status=413, title="文件过大", message=message)
    actor = verifier(request)

    def run() -> UploadReport:
        with session_scope() as session:
            return verify_upload(session, Archive.at(get_settings().data_dir), data, actor=actor)

    report = await run_in_threadpool(run)
    return render("upload.html", report=report, filename=file.filename or "")
