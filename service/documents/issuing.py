"""Issuing documents: data → DOCX → PDF → (seal) → archive → registry row. One way in for single
documents and batches alike."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from doc_templates.batch_render import NotBatchable, render_many
from doc_templates.context import DocumentData, build_context, kind_of
from doc_templates.convert import ConversionError
from doc_templates.fonts import missing_glyphs
from doc_templates.pdf_split import SplitError, split_documents
from doc_templates.render import (
    RenderError,
    TemplateFieldMissing,
    context_strings,
    render_docx,
)
from doc_templates.snapshot import to_snapshot
from service.documents.converter import Converter
from service.documents.templates import active_version, template_bytes
from signing import SigningError, TimestampUnavailable
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


def _render(template: bytes, data: DocumentData, context: dict[str, Any]) -> bytes:
    """One document's DOCX from a context that ``checked_context`` already built and checked."""
    try:
        return render_docx(template, context, check_glyphs=False)
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

    Three passes: convert, seal and archive every document, then add the rows. Nothing is written
    to the database before the last pass, so on SQLite the write lock is held only for the
    inserts: sealing a chunk inside the transaction would hold it for seconds and make the other
    workers wait. Each PDF is archived before its row is added: the database never points at a
    missing blob.
    """
    if not planned:
        return []
    kind = kind_of(planned[0].data).code
    version = active_version(session, archive, kind)
    template = template_bytes(archive, version)
    pdfs = _to_pdf(template, planned, converter)
    ready: list[tuple[str, str] | IssueError] = []
    for item, pdf in zip(planned, pdfs, strict=True):
        if isinstance(pdf, IssueError):
            ready.append(pdf)
            continue
        try:
            final = _seal(sealer, kind, pdf, item) if sealer else pdf
        except Exception as exc:  # signing reports its own reason; the batch goes on
            ready.append(IssueError(f"{item.data.meta.number}：签章失败：{exc}"))
            continue
        rendered_key = archive.put(pdf)
        ready.append((rendered_key, archive.put(final) if final is not pdf else rendered_key))
    results: list[Document | IssueError] = []
    for item, keys in zip(planned, ready, strict=True):
        results.append(keys if isinstance(keys, IssueError) else _record(session, version, item, *keys))
    return results


def _seal(sealer: Sealer, kind: str, pdf: bytes, item: Planned) -> bytes:
    """Seal, trying once more after an unexpected failure.

    A failure inside pyHanko's XMP handling (XmpXmlProcessingError) was seen once in a CI run and
    never reproduced: not in 270 seals then, nor in 570 seals from 2–3 threads at once, with the
    old and the new signing code. Nothing in the XMP path is shared between threads (each seal has
    its own reader, writer and metadata stream; lxml parsers are per call). What was found is a
    pyHanko quirk: ``MetadataStream._reserialise`` keeps the stream's old encoded bytes, so each
    incremental update re-writes the previous XMP packet unchanged (ModifyDate never advances) —
    harmless, and sealing now writes one revision fewer (sign, then DSS + document timestamp in
    one update), so XMP is parsed once per seal instead of twice. Until the cause is known a
    second failure is reported as the item's error; the first is logged with its type.
    """
    try:
        return sealer(kind, pdf)
    except (TimestampUnavailable, SigningError):
        raise  # a reason of its own (TSA down, revoked key): trying again will not help
    except Exception as exc:
        log.warning("sealing %s failed once (%s: %s); trying again", item.slot, type(exc).__name__, exc)
        return sealer(kind, pdf)


def _to_pdf(template: bytes, planned: Sequence[Planned], converter: Converter) -> list[bytes | IssueError]:
    """One PDF per planned document, converted together when the template allows it.

    LibreOffice's cost is per conversion, not per page, so several people go through one merged
    DOCX and the PDF is split back per person, each file re-subset to carry only its own glyphs
    and images (doc_templates.pdf_split). Records that cannot render are set aside first, so one
    bad record never sinks its neighbours; a template that cannot be merged is converted one by one.
    """
    out: list[bytes | IssueError | None] = [None] * len(planned)
    contexts: dict[int, dict[str, Any]] = {}
    for i, item in enumerate(planned):
        try:
            contexts[i] = checked_context(item.data)
        except IssueError as exc:
            out[i] = exc
    if len(contexts) > 1:
        try:
            merged = _convert_merged(template, planned, contexts, converter)
        except (NotBatchable, SplitError, ConversionError, RenderError) as exc:
            log.info("converting %d documents one by one: %s", len(contexts), type(exc).__name__)
        else:
            for i, pdf in zip(contexts, merged, strict=True):
                out[i] = pdf
            return [r if r is not None else IssueError("内部错误：未处理") for r in out]
    docx: dict[int, bytes] = {}
    for i in contexts:
        try:
            docx[i] = _render(template, planned[i].data, contexts[i])
        except IssueError as exc:
            out[i] = exc
    converted = converter.convert_many([(item_name(planned[i]), data) for i, data in docx.items()])
    for i, outcome in zip(docx, converted, strict=True):
        out[i] = (
            outcome.pdf
            if outcome.pdf is not None
            else IssueError(f"{planned[i].data.meta.number}：转换为PDF失败：{outcome.error}")
        )
    return [r if r is not None else IssueError("内部错误：未处理") for r in out]


def _convert_merged(
    template: bytes, planned: Sequence[Planned], contexts: dict[int, dict[str, Any]], converter: Converter
) -> list[bytes]:
    kind = kind_of(planned[0].data)
    merged_docx = render_many(template, list(contexts.values()), check_glyphs=False)
    merged_pdf = converter.convert(merged_docx, f"{kind.code}-batch-{len(contexts)}.docx")
    return split_documents(merged_pdf, len(contexts), kind.parties)


def checked_context(data: DocumentData) -> dict[str, Any]:
    """The template context, refused early when a character would not print."""
    context = build_context(data)
    lacking = missing_glyphs(context_strings(context))
    if lacking:
        chars = "、".join(f"“{c}”(U+{ord(c):04X})" for c in lacking)
        raise IssueError(f"{data.meta.number}：记录中有已安装字体无法显示的字符{chars}，请核对后重新签发")
    return context


def item_name(item: Planned) -> str:
    """A file name for logs and errors that identifies the record, never the person."""
    return f"{item.slot.replace('/', '-')}.docx"


def _record(
    session: Session, version: TemplateVersion, item: Planned, rendered_key: str, final_key: str
) -> Document:
    """The registry rows of one archived document (rendered, and sealed if it was)."""
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
