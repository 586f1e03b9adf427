"""Queued jobs of the audit domain."""

from __future__ import annotations

from service.audit.report import attach_report
from service.config import get_settings
from service.documents.converter import shared_converter
from service.jobs import queue
from storage.archive import Archive
from storage.db import session_scope

huey = queue()


@huey.task(name="audit.attach_report")
def attach_signing_report(document_id: int) -> str:
    """Build the signed 签署报告 of a completed document. Runs after the signing request has
    committed: it needs a LibreOffice conversion and a signature, too slow to hold a row lock for."""
    with session_scope() as session:
        return attach_report(session, Archive.at(get_settings().data_dir), shared_converter(), document_id)
