"""Documents API: batches of notices, single documents, revocation, template versions."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from service.config import get_settings
from service.deps import CurrentScope, CurrentUser, SessionDep, UserActor, require_roles
from service.documents import batches, flows, service, templates
from service.documents.converter import shared_converter
from service.documents.export import zip_stream
from service.documents.schemas import (
    BatchRead,
    BatchStart,
    DocumentRead,
    IssueRequest,
    ReasonBody,
    TemplateRead,
)
from service.documents.sealing import SEALED_AT_ISSUANCE
from service.errors import AppError, Forbidden, NotFound
from service.users.scope import Scope, term_visible
from storage.archive import Archive
from storage.models import Document, Role

router = APIRouter(tags=["documents"])
ADMIN = require_roles(Role.REGION_ADMIN)
OFFICES = require_roles(Role.REGION_ADMIN, Role.LEAGUE_OFFICE, Role.COUNTY_OFFICE)


def _archive() -> Archive:
    return Archive.at(get_settings().data_dir)


def _visible(session: Session, scope: Scope, document_id: int) -> Document:
    """The document if the caller may see it; 404 otherwise, so ids cannot be probed."""
    doc = session.get(Document, document_id)
    if doc is None or (doc.term_id is not None and not term_visible(session, scope, doc.term_id)):
        raise NotFound(f"文书{document_id}不存在")
    if doc.term_id is None and not scope.is_admin:
        raise NotFound(f"文书{document_id}不存在")
    return doc


def _changeable(session: Session, scope: Scope, document_id: int) -> Document:
    """The document if the caller may revoke or supersede it: the region office anything; league and
    county offices what they see, except the documents the region office issues alone under its seal
    (notices, certificates). One check, so revoking and superseding can never drift apart."""
    doc = _visible(session, scope, document_id)
    if not scope.is_admin and doc.kind in SEALED_AT_ISSUANCE:
        raise Forbidden("该文书由自治区项目办签发，只有自治区项目办可以撤销或替代")
    return doc


def _batch_read(session: Session, batch_id: int) -> BatchRead:
    p = batches.progress(session, batch_id)
    fails = [{"term_id": t, "error": e} for t, e in batches.failures(session, batch_id, limit=50)]
    return BatchRead(
        batch_id=p.batch_id, kind=p.kind, status=p.status, total=p.total, done=p.done, failed=p.failed,
        remaining=p.remaining, rate=round(p.rate, 2), eta_seconds=p.eta_seconds, failures=fails,
    )  # fmt: skip


@router.post(
    "/documents/batches", response_model=BatchRead, status_code=status.HTTP_202_ACCEPTED, dependencies=[ADMIN]
)
def start_batch(session: SessionDep, user: CurrentUser, body: BatchStart) -> BatchRead:
    """Start (or resume) issuing a cohort's confirmation notices; workers do the work."""
    batch = flows.start_batch(session, body.cohort, body.kind, user_id=user.id)
    assert batch.id is not None
    return _batch_read(session, batch.id)


@router.get("/documents/batches/{batch_id}", response_model=BatchRead, dependencies=[ADMIN])
def batch_progress(session: SessionDep, batch_id: int) -> BatchRead:
    return _batch_read(session, batch_id)


@router.get("/documents/batches/{batch_id}/zip", dependencies=[ADMIN])
def batch_zip(session: SessionDep, batch_id: int) -> StreamingResponse:
    """Every live document of the batch's cohort and kind, as one ZIP."""
    batches.get_batch(session, batch_id)
    headers = {"Content-Disposition": f'attachment; filename="batch-{batch_id}.zip"'}
    return StreamingResponse(zip_stream(batch_id), media_type="application/zip", headers=headers)


@router.post("/documents", response_model=DocumentRead, status_code=201, dependencies=[OFFICES])
def issue_document(
    session: SessionDep, scope: CurrentScope, actor: UserActor, body: IssueRequest
) -> Document:
    """Issue one document of any kind for a term in the caller's scope."""
    if not term_visible(session, scope, body.term_id):
        raise NotFound(f"服务记录{body.term_id}不存在")
    return service.issue_one(
        session, _archive(), shared_converter(), body.kind, body.term_id, year=body.year,
        reissue_reason=body.reissue_reason, actor=actor,
    )  # fmt: skip


@router.get("/documents/{document_id}", response_model=DocumentRead)
def get_document(session: SessionDep, scope: CurrentScope, document_id: int) -> Document:
    return _visible(session, scope, document_id)


@router.get("/documents/{document_id}/pdf")
def document_pdf(session: SessionDep, scope: CurrentScope, document_id: int) -> Response:
    doc = _visible(session, scope, document_id)
    data = _archive().get(doc.current_sha256)
    headers = {"Content-Disposition": f'attachment; filename="document-{doc.id}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.post("/documents/{document_id}/revoke", response_model=DocumentRead, dependencies=[OFFICES])
def revoke_document(
    session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int, body: ReasonBody
) -> Document:
    """Revoke a document (reason required); the public verification page shows 已撤销 at once."""
    _changeable(session, scope, document_id)
    return service.revoke(session, document_id, body.reason, actor=actor)


@router.post(
    "/documents/{document_id}/supersede", response_model=DocumentRead, status_code=201, dependencies=[OFFICES]
)
def supersede_document(
    session: SessionDep, scope: CurrentScope, actor: UserActor, document_id: int, body: ReasonBody
) -> Document:
    """A corrected re-issue from the current records; the old code then shows 已被新版本替代 with a link to the new one."""
    _changeable(session, scope, document_id)
    return service.supersede(session, _archive(), shared_converter(), document_id, body.reason, actor=actor)


@router.get("/templates", response_model=list[TemplateRead], dependencies=[ADMIN])
def list_templates(session: SessionDep, kind: str | None = Query(default=None)) -> list[TemplateRead]:
    for code in ("notice", "agreement", "appraisal", "evaluation", "certificate"):
        templates.active_version(session, _archive(), code)  # built-ins appear once registered
    return [
        TemplateRead.model_validate(t, from_attributes=True) for t in templates.list_versions(session, kind)
    ]


@router.post("/templates/{kind}", response_model=TemplateRead, status_code=201, dependencies=[ADMIN])
async def upload_template(
    session: SessionDep, user: CurrentUser, kind: str, file: UploadFile = File(...)
) -> TemplateRead:
    """Upload a new version of a kind's template; it is checked before it becomes active."""
    data = await file.read(get_settings().max_upload_bytes + 1)
    if len(data) > get_settings().max_upload_bytes:
        raise AppError("模板文件过大", status=413, code="too_large")
    version = templates.upload_version(
        session,
        _archive(),
        kind,
        data,
        user_id=user.id,
        convert=lambda d: shared_converter().convert(d, "check.docx"),
    )
    return TemplateRead.model_validate(version, from_attributes=True)
