"""导入: upload an intake sheet, see every error (row, column, message), then confirm.

The check is the import service's dry run; a sheet that passes is kept in a staging folder (named by
the user and the file's SHA-256) until the office confirms, so the file is uploaded once.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from service.config import get_settings
from service.errors import AppError
from service.imports.errors import ImportRejected
from service.imports.service import import_sheet
from service.web import readmodels
from service.web.deps import OFFICES, PageDB, PageForm, PageScope, PageUser, page_roles, text, upload
from service.web.rendering import render
from service.web.routing import page_router
from storage.models import User

router = page_router(dependencies=[page_roles(*OFFICES)])

_SHA = re.compile(r"^[0-9a-f]{64}$")
_STAGED_FOR = 24 * 3600  # seconds a checked sheet waits for its confirmation


async def sheet_upload(form: PageForm) -> tuple[str, bytes] | None:
    return await upload(form, "file", get_settings().max_upload_bytes)


SheetUpload = Annotated[tuple[str, bytes] | None, Depends(sheet_upload)]


def _staging() -> Path:
    return get_settings().data_dir / "uploads"


def _staged_path(user: User, sha256: str) -> Path:
    if not _SHA.match(sha256):
        raise AppError("待确认的表格不存在，请重新上传", status=404, code="not_staged")
    return _staging() / f"{user.id}-{sha256}"


def _stage(user: User, data: bytes) -> str:
    """Keep a checked sheet for its confirmation; drop sheets nobody confirmed within a day."""
    folder = _staging()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - _STAGED_FOR
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    sha256 = hashlib.sha256(data).hexdigest()
    path = _staged_path(user, sha256)
    path.write_bytes(data)
    path.chmod(0o600)  # personal data: readable by the service only
    return sha256


def _form_context(db: PageDB, cohort: str) -> dict[str, object]:
    every = readmodels.cohorts(db)
    return {"cohorts": every, "cohort": cohort or (every[0].code if every else "")}


@router.get("/imports")
def import_page(request: Request, db: PageDB, user: PageUser, cohort: str = "") -> Response:
    return render(request, "imports.html", {**_form_context(db, cohort), "report": None, "staged": None})


@router.post("/imports/check")
def check_sheet(
    request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm, sheet: SheetUpload
) -> Response:
    """The dry run: every error at once, or what the import would change and a button to confirm it."""
    cohort = text(form, "cohort", max_length=9)
    context = _form_context(db, cohort)
    if sheet is None:
        return render(request, "imports.html", {**context, "report": None, "staged": None,
                                                "error": "请选择要上传的表格文件"}, status=400)  # fmt: skip
    filename, data = sheet
    try:
        report = import_sheet(db, data, filename, cohort, scope=scope, user_id=user.id, dry_run=True)
    except ImportRejected as exc:
        db.rollback()
        return render(request, "imports.html", {**context, "report": exc.report, "staged": None,
                                                "error": exc.message}, status=exc.status)  # fmt: skip
    except AppError as exc:
        db.rollback()
        return render(request, "imports.html", {**context, "report": None, "staged": None,
                                                "error": exc.message}, status=exc.status)  # fmt: skip
    staged = {"sha256": _stage(user, data), "filename": filename[:200]}
    return render(request, "imports.html", {**context, "report": report, "staged": staged})


@router.post("/imports/confirm")
def confirm_sheet(request: Request, db: PageDB, user: PageUser, scope: PageScope, form: PageForm) -> Response:
    """Import the sheet checked a moment ago; the service checks it again, all or nothing."""
    cohort = text(form, "cohort", max_length=9)
    path = _staged_path(user, text(form, "sha256", max_length=64))
    filename = text(form, "filename", max_length=200) or "sheet"
    context = _form_context(db, cohort)
    if not path.exists():
        return render(request, "imports.html", {**context, "report": None, "staged": None,
                                                "error": "待确认的表格已过期，请重新上传"}, status=404)  # fmt: skip
    try:
        report = import_sheet(db, path.read_bytes(), filename, cohort, scope=scope, user_id=user.id)
    except ImportRejected as exc:
        db.rollback()
        return render(request, "imports.html", {**context, "report": exc.report, "staged": None,
                                                "error": exc.message}, status=exc.status)  # fmt: skip
    db.commit()  # the staged copy goes only once the import is in
    path.unlink(missing_ok=True)
    return render(
        request, "imports.html", {**context, "report": report, "staged": None, "notice": report.summary()}
    )
