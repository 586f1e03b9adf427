"""Files people send us (intake sheets, PDFs to verify), read under the size limit.

One reader for the JSON API (a multipart request's ``file`` part) and the pages (a part of a form
already parsed), so a file is refused at the same size, with the same 413, wherever it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from service.config import get_settings
from service.errors import AppError

_READ_CHUNK = 1024 * 1024
# Form boundaries and the other part headers, on top of the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def too_large(limit: int) -> AppError:
    return AppError(f"文件过大，上限为{limit // (1024 * 1024)}MB", status=413, code="file_too_large")


async def read_limited(part: UploadFile, limit: int) -> bytes:
    """The part's bytes, read a chunk at a time: refused (413) as soon as it passes ``limit``, so an
    over-large file is never held whole in memory."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request) -> Upload:
    """The ``file`` part, refused with 413 before parsing when Content-Length already says it is too big."""
    limit = get_settings().max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise AppError("请以 multipart/form-data 方式上传文件（字段名 file）", status=400, code="no_file")
    async with request.form(max_files=1, max_fields=10) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise AppError("请求中没有文件（字段名 file）", status=400, code="no_file")
        return Upload(part.filename or "upload", await read_limited(part, limit))


UploadDep = Annotated[Upload, Depends(read_upload)]


def file_body(description: str | None = None) -> dict[str, Any]:
    """OpenAPI for an endpoint that takes :data:`UploadDep`: it reads the request itself, so FastAPI
    cannot describe the multipart body on its own."""
    file: dict[str, Any] = {"type": "string", "format": "binary"}
    if description:
        file["description"] = description
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {"file": file}}
                }
            },
        }
    }
