"""签署: the page a signing link opens, no account needed. The document as page images (and a
download), 获取验证码, the code, 签署 or 拒签 with a reason. Made for a 375 px phone first.

Every step is the signer service's (view, send_code, sign_with_code, decline): the link token is
the credential, the one-time code confirms the person, and refusals (out of turn, wrong code,
dead link) come back as the service phrased them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, Response

from doc_templates.kinds import get_kind
from service.agreements import signer
from service.agreements.service import CodeRejected, Locked, mask_recipient
from service.config import get_settings
from service.deps import actor
from service.documents.service import get_document
from service.errors import AppError, NotFound
from service.web.deps import PageDB, PageForm, text
from service.web.pdfpages import page_images
from service.web.rendering import attachment, redirect, render
from service.web.routing import page_router
from storage.archive import Archive
from storage.models import SigningRequest

router = page_router()

_MESSAGES = {"code_sent": "验证码已发送，请查收后在下方输入。"}


def _archive() -> Archive:
    return Archive.at(get_settings().data_dir)


def _page(request: Request, db: PageDB, token: str, *, record: bool, **extra: Any) -> Response:
    """The signing page for ``token``; ``extra`` carries an error or notice and the HTTP status."""
    status = extra.pop("status", 200)
    seen = signer.view(db, token, actor(request), record=record)
    doc, req = seen.document, seen.request
    archive = _archive()
    pages = page_images(doc.current_sha256, lambda: archive.get(doc.current_sha256))
    context = {
        "nav": [],
        "token": token,
        "doc": doc,
        "title": get_kind(doc.kind).title,
        "req": req,
        "requests": seen.requests,
        "turn": seen.turn,
        "my_turn": seen.turn == req.party,
        "pages": len(pages),
        "sent_to": mask_recipient(req.recipient) if req.recipient else None,
        **extra,
    }
    return render(request, "signing.html", context, status=status)


@router.get("/s/{token}")
def signing_page(request: Request, db: PageDB, token: str, msg: str = "") -> Response:
    # A page reloaded after our own redirect is not a new viewing: record only the first.
    return _page(request, db, token, record=not msg, notice=_MESSAGES.get(msg))


@router.get("/s/{token}/pages/{number}.png")
def page_image(db: PageDB, request: Request, token: str, number: int) -> Response:
    seen = signer.view(db, token, actor(request), record=False)
    sha = seen.document.current_sha256
    archive = _archive()
    pages = page_images(sha, lambda: archive.get(sha))
    if not 1 <= number <= len(pages):
        raise NotFound("没有这一页")
    return FileResponse(
        pages[number - 1], media_type="image/png", headers={"Cache-Control": "private, no-store"}
    )


@router.get("/s/{token}/pdf")
def signing_pdf(db: PageDB, request: Request, token: str) -> Response:
    seen = signer.view(db, token, actor(request), record=False)
    data = _archive().get(seen.document.current_sha256)
    headers = attachment(f"{seen.document.number}.pdf", f"document-{seen.document.id}.pdf")
    return Response(data, media_type="application/pdf", headers=headers)


def _refused(request: Request, db: PageDB, token: str, exc: AppError, *, keep: bool = False) -> Response:
    """The signing page again with the refusal; ``keep`` commits a counted failed code attempt."""
    if keep:
        db.commit()
    else:
        db.rollback()
    try:
        return _page(request, db, token, record=False, error=exc.message, status=exc.status)
    except AppError:
        raise exc from None  # the link itself is dead now: the error page says why


@router.post("/s/{token}/code")
def send_code(request: Request, db: PageDB, form: PageForm, token: str) -> Response:
    try:
        signer.send_code(db, token, actor(request))
    except AppError as exc:
        return _refused(request, db, token, exc)
    return redirect(f"/s/{token}?msg=code_sent")


@router.post("/s/{token}/sign")
def sign(request: Request, db: PageDB, form: PageForm, token: str) -> Response:
    code = text(form, "code", max_length=12).replace(" ", "")
    try:
        if not (len(code) == 6 and code.isdigit()):
            raise CodeRejected("请输入6位数字验证码", code="code_format")
        req = signer.sign_with_code(db, _archive(), token, code, actor(request))
    except (CodeRejected, Locked) as exc:
        return _refused(request, db, token, exc, keep=exc.code != "code_format")
    except AppError as exc:
        return _refused(request, db, token, exc)
    return _finished(request, db, req, "signed")


@router.post("/s/{token}/decline")
def decline(request: Request, db: PageDB, form: PageForm, token: str) -> Response:
    try:
        req = signer.decline(db, token, text(form, "reason"), actor(request))
    except AppError as exc:
        return _refused(request, db, token, exc)
    return _finished(request, db, req, "declined")


def _finished(request: Request, db: PageDB, req: SigningRequest, outcome: str) -> Response:
    """What the signer sees after signing or declining. The step is committed first, so the page
    never says 已签署 for a signature a failed commit would lose."""
    db.commit()
    doc = get_document(db, req.document_id)
    context = {
        "nav": [],
        "doc": doc,
        "title": get_kind(doc.kind).title,
        "outcome": outcome,
        "party": req.party,
    }
    return render(request, "signing_done.html", context)
