"""Verification API for anyone, no account: look a document up by its code, check the holder's identity.

The upload validation (``POST /verify``) belongs here too, beside these.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.audit.service import Actor
from service.config import get_settings
from service.deps import SessionDep
from service.uploads import UploadDep, file_body
from service.verification import limits, service
from service.verification.ratelimit import RateLimiter
from service.verification.schemas import IdentityAnswer, IdentityQuestion, Statement
from service.verification.upload import verify_upload
from service.verification.upload_schemas import UploadReportRead
from signing.verify import Verdict
from storage.archive import Archive
from storage.db import get_engine

router = APIRouter(tags=["verification"])

#: The status can change at any moment (revocation): nobody may cache an answer.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def verifier(request: Request) -> Actor:
    """An anonymous verifier, known only by address and browser."""
    return Actor(
        "匿名核验人", ip=limits.client_address(request), user_agent=request.headers.get("user-agent")
    )


@router.get(
    "/verify/{code:path}",
    response_model=Statement,
    responses={
        404: {"model": Statement, "description": "未找到：验证码不存在或格式有误（两者答复相同）"},
        429: {"description": "查询过于频繁（problem+json，带 Retry-After）"},
    },
)
async def verify_code(request: Request, code: str) -> Response:
    """The public statement for a verification code (the QR code's target), as JSON.

    Case, spaces, dashes and full-width characters do not matter; O reads as 0, I and L as 1.
    """
    # The busiest public path, kept lean: the one indexed query, never waited for on the event loop
    # (on SQLite run there, cheaper than a thread hop; on PostgreSQL batched in a thread), the
    # once-per-document build in a worker thread.
    limits.limit(request, limits.lookup_limiter())
    engine = get_engine()
    rows = await service.query_async(engine, code)
    found = service.cached(rows)
    if found is None:
        found = await run_in_threadpool(service.build, engine, rows)
    return Response(
        found.body,
        status_code=200 if found.found else 404,
        media_type="application/json",
        headers=NO_STORE,
    )


@router.post(
    "/verify/{code}/identity",
    response_model=IdentityAnswer,
    responses={404: {"description": "未找到"}, 429: {"description": "核对过于频繁"}},
)
def verify_identity(
    session: SessionDep, request: Request, code: str, body: IdentityQuestion, response: Response
) -> IdentityAnswer:
    """Does the holder's full name (or ID number) match what the verifier has? Only 一致 or 不一致."""
    limits.limit(request, limits.identity_limiter(), "身份核对")
    response.headers.update(NO_STORE)
    return service.check_identity(
        session, code, body, verifier(request), per_document=limits.document_identity_limiter()
    )


# --- validation by upload ------------------------------------------------------------------------

#: Validating a file costs ~0.1–0.5 s of CPU: a public endpoint needs its own, tighter, limit.
_UPLOADS_PER_MINUTE, _UPLOAD_BURST = 20, 10


_PDF_BODY = file_body("PDF，≤ 20 MB")


@lru_cache
def upload_limiter() -> RateLimiter:
    return RateLimiter(_UPLOADS_PER_MINUTE, _UPLOAD_BURST)


@router.post(
    "/verify",
    response_model=UploadReportRead,
    openapi_extra=_PDF_BODY,
    responses={
        413: {"description": "文件超过20MB（problem+json）"},
        422: {"model": UploadReportRead, "description": "无法验证：文件不是可解析的PDF（报告说明原因）"},
        429: {"description": "验证过于频繁（problem+json，带 Retry-After）"},
    },
)
def verify_upload_file(request: Request, session: SessionDep, upload: UploadDep) -> Response:
    """上传PDF文书逐项验证：签名与证书、时间戳、签名后的修改、签署方与顺序、登记与存档原件、撤销与替代。

    结论为“有效”仅当每一项检查都通过；文件无法解析时结论为“无法验证”（HTTP 422）。
    """
    limits.limit(request, upload_limiter(), "文件验证")
    report = verify_upload(session, Archive.at(get_settings().data_dir), upload.data, actor=verifier(request))
    body = UploadReportRead.of(report).model_dump_json()
    status = 422 if report.verdict is Verdict.UNVERIFIABLE else 200
    return Response(body, status_code=status, media_type="application/json", headers=NO_STORE)
