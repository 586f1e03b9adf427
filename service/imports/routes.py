"""Upload an intake sheet: ``POST /api/v1/imports`` writes it, ``POST /api/v1/imports/check`` only checks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile

from service.config import get_settings
from service.deps import CurrentScope, CurrentUser, SessionDep, require_roles
from service.errors import AppError
from service.imports.schemas import ImportReport
from service.imports.service import import_sheet
from storage.models import Role

router = APIRouter(prefix="/imports", tags=["imports"])

_READ_CHUNK = 1024 * 1024
# Form boundaries and the other part headers, on top of the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _too_large(limit: int) -> AppError:
    return AppError(f"文件过大，上限为{limit // (1024 * 1024)}MB", status=413, code="file_too_large")


async def read_upload(request: Request) -> Upload:
    """The ``file`` part, refused with 413 before parsing when Content-Length already says it is too big."""
    limit = get_settings().max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise AppError("请以 multipart/form-data 方式上传文件（字段名 file）", status=400, code="no_file")
    async with request.form(max_files=1, max_fields=10) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise AppError("请求中没有文件（字段名 file）", status=400, code="no_file")
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return Upload(part.filename or "upload", b"".join(chunks))


UploadDep = Annotated[Upload, Depends(read_upload)]
_OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)


@router.post(
    "",
    response_model=ImportReport,
    dependencies=[_OFFICES],
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"description": "文件过大"}, 422: {"description": "表格有错误，未写入任何数据"}},
)
def upload_sheet(
    upload: UploadDep,
    session: SessionDep,
    user: CurrentUser,
    scope: CurrentScope,
    cohort: Annotated[str, Query(description="年度，如 2020-2021")],
) -> ImportReport:
    """导入志愿者信息表：全部正确才写入；盟市、旗县项目办只能导入本辖区的志愿者。"""
    return import_sheet(session, upload.data, upload.filename, cohort, scope=scope, user_id=user.id)


@router.post(
    "/check",
    response_model=ImportReport,
    dependencies=[_OFFICES],
    openapi_extra=_UPLOAD_BODY,
    responses={413: {"description": "文件过大"}, 422: {"description": "表格有错误"}},
)
def check_sheet(
    upload: UploadDep,
    session: SessionDep,
    scope: CurrentScope,
    cohort: Annotated[str, Query(description="年度，如 2020-2021")],
) -> ImportReport:
    """只检查志愿者信息表，报告将新增、更新的人数和全部错误，不写入任何数据。"""
    return import_sheet(session, upload.data, upload.filename, cohort, scope=scope, dry_run=True)
