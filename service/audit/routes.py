"""The signing report over the API, visible to exactly those who may see the document."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlmodel import Session

from service.audit.report import latest_report, signing_report
from service.config import get_settings
from service.deps import CurrentScope, SessionDep
from service.errors import NotFound
from service.users.scope import Scope, term_visible
from storage.archive import Archive
from storage.models import Document

router = APIRouter(tags=["audit"])


def _visible(session: Session, scope: Scope, document_id: int) -> Document:
    """Same rule as the documents API: 404 outside the caller's scope, so ids cannot be probed."""
    doc = session.get(Document, document_id)
    if doc is None:
        raise NotFound(f"文书{document_id}不存在")
    if doc.term_id is None and not scope.is_admin:
        raise NotFound(f"文书{document_id}不存在")
    if doc.term_id is not None and not term_visible(session, scope, doc.term_id):
        raise NotFound(f"文书{document_id}不存在")
    return doc


@router.get("/documents/{document_id}/report")
def document_report(session: SessionDep, scope: CurrentScope, document_id: int) -> Response:
    """签署报告 (PDF): the one archived at completion if there is one, else one made now."""
    doc = _visible(session, scope, document_id)
    archive = Archive.at(get_settings().data_dir)
    key = latest_report(session, document_id)
    data = archive.get(key) if key else signing_report(session, document_id, archive=archive)
    headers = {"Content-Disposition": f'attachment; filename="report-{doc.id}.pdf"'}
    return Response(data, media_type="application/pdf", headers=headers)
