"""验证 (public, no account): enter a verification code, which leads to the ``/v/{code}`` page, or
upload a PDF and see every check of the upload validation, each passed or failed with its reason.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response

from service.config import get_settings
from service.web.deps import MaybeUser, PageDB, PageForm, actor, upload
from service.web.rendering import redirect, render
from service.web.routing import page_router
from storage.archive import Archive

router = page_router()


async def pdf_upload(form: PageForm) -> tuple[str, bytes] | None:
    return await upload(form, "file", get_settings().max_upload_bytes)


PdfUpload = Annotated[tuple[str, bytes] | None, Depends(pdf_upload)]


@router.get("/verify")
def verify_page(request: Request, user: MaybeUser, code: str = "") -> Response:
    """The entry page; with a code, straight on to that code's public page."""
    typed = code.strip()
    if typed:
        return redirect(f"/v/{quote(typed[:64], safe='')}")
    return render(request, "verify.html")


@router.post("/verify")
def verify_upload(request: Request, db: PageDB, user: MaybeUser, form: PageForm, pdf: PdfUpload) -> Response:
    """Every check of the upload validation, each passed or failed with its reason; never a 500."""
    if pdf is None:
        return render(request, "verify.html", {"error": "请选择要验证的 PDF 文件"}, status=400)
    filename, data = pdf
    from service.verification.upload import verify_upload as validate

    report = validate(db, Archive.at(get_settings().data_dir), data, actor=actor(request))
    context = {"report": report, "filename": filename[:200], "valid": report.verdict.name == "VALID"}
    return render(request, "verify_result.html", context)
