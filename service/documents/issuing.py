"""Issuing documents: data → DOCX → PDF → (seal) → archive → registry row. One way in for single
documents and batches alike."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from doc_templates.context import DocumentData, build_context, kind_of
from doc_templates.render import MissingGlyphs, RenderError, TemplateFieldMissing, render_docx
from doc_templates.snapshot import to_snapshot
from service.documents.codes import new_code
from service.documents.converter import Converter
from service.documents.templates import active_version, template_bytes
from storage.archive import Archive
from storage.models import Document, DocumentRevision, TemplateVersion

log = logging.getLogger(__name__)

#: Seals a freshly rendered PDF for kinds the region office signs at issuance (set up by signing).
Sealer = Callable[[str, bytes], bytes]


class IssueError(Exception):
    """One document could not be issued; the message is Chinese and names the record."""


@dataclass(frozen=True)
class Planned:
    """A document about to be issued: its slot, its data and where it belongs."""

    slot: str
    data: DocumentData
    cohort_id: int
    term_id: int | None
    service_year: int | None = None
    batch_id: int | None = None


def today_in_china() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def fresh_code() -> str:
    return new_code()


def render(template: bytes, data: DocumentData) -> bytes:
    try:
        return render_docx(template, build_context(data))
    except MissingGlyphs as exc:
        chars = "、".join(f"“{c}”(U+{ord(c):04X})" for c in exc.chars)
        raise IssueError(
            f"{data.meta.number}：记录中有已安装字体无法显示的字符{chars}，请核对后重新签发"
        ) from exc
    except TemplateFieldMissing as exc:
        raise IssueError(f"{data.meta.number}：模板字段“{exc.field}”没有数据（模板{exc.template}）") from exc
    except RenderError as exc:
        raise IssueError(f"{data.meta.number}：模板渲染失败（模板{exc.template}）：{exc}") from exc


def issue_many(
    session: Session,
    archive: Archive,
    converter: Converter,
    planned: Sequence[Planned],
    *,
    sealer: Sealer | None = None,
) -> list[Document | IssueError]:
    """Issue several documents of one kind; each result is the Document or why it failed.

    Rendering happens here, conversion on the pool (all at once, so every instance works), then
    each PDF is archived before its row is added: the database never points at a missing blob.
    """
    if not planned:
        return []
    kind = kind_of(planned[0].data).code
    version = active_version(session, archive, kind)
    template = template_bytes(archive, version)
    results: list[Document | IssueError | None] = [None] * len(planned)
    docx: dict[int, bytes] = {}
    for i, item in enumerate(planned):
        try:
            docx[i] = render(template, item.data)
        except IssueError as exc:
            results[i] = exc
    converted = converter.convert_many([(item_name(planned[i]), data) for i, data in docx.items()])
    for i, outcome in zip(docx, converted, strict=True):
        item = planned[i]
        if outcome.pdf is None:
            results[i] = IssueError(f"{item.data.meta.number}：转换为PDF失败：{outcome.error}")
            continue
        try:
            final = sealer(kind, outcome.pdf) if sealer else outcome.pdf
        except Exception as exc:  # signing reports its own reason; the batch goes on
            log.warning("sealing failed for %s: %s", item.slot, type(exc).__name__)
            results[i] = IssueError(f"{item.data.meta.number}：签章失败：{exc}")
            continue
        results[i] = _record(session, archive, version, item, outcome.pdf, final)
    return [r if r is not None else IssueError("内部错误：未处理") for r in results]


def item_name(item: Planned) -> str:
    """A file name for logs and errors that identifies the record, never the person."""
    return f"{item.slot.replace('/', '-')}.docx"


def _record(
    session: Session, archive: Archive, version: TemplateVersion, item: Planned, rendered: bytes, final: bytes
) -> Document:
    rendered_key = archive.put(rendered)
    final_key = archive.put(final) if final is not rendered else rendered_key
    doc = Document(
        kind=kind_of(item.data).code,
        number=item.data.meta.number,
        verification_code=item.data.meta.code,
        cohort_id=item.cohort_id,
        term_id=item.term_id,
        service_year=item.service_year,
        slot=item.slot,
        live_slot=item.slot,
        template_sha256=version.sha256,
        snapshot=to_snapshot(item.data),
        rendered_sha256=rendered_key,
        current_sha256=final_key,
        batch_id=item.batch_id,
        created_at=datetime.now(UTC),
    )
    session.add(doc)
    session.flush()
    assert doc.id is not None
    session.add(DocumentRevision(document_id=doc.id, seq=1, sha256=rendered_key, reason="rendered"))
    if final_key != rendered_key:
        session.add(
            DocumentRevision(document_id=doc.id, seq=2, sha256=final_key, reason="sealed:region_office")
        )
    session.flush()
    return doc
