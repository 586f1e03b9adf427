"""render_many: one docxtpl pass for many people gives, converted and split, each person's own pages."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from doc_templates.batch_render import NotBatchable, render_many
from doc_templates.convert import ConverterPool
from doc_templates.fonts import libreoffice_env
from doc_templates.kinds import KINDS
from doc_templates.pdf_split import split_documents
from doc_templates.render import MissingGlyphs, TemplateFieldMissing, render_docx
from tests.doc_templates.batch_people import contexts, pdf_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    with ConverterPool(size=1, env=libreoffice_env()) as p:
        yield p


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_same_text_per_person_as_one_by_one(pool: ConverterPool, kind: str) -> None:
    ctxs = contexts(kind, 3)
    merged = pool.convert(render_many(kind, ctxs), f"{kind}-batch.docx")
    parts = split_documents(merged, len(ctxs), KINDS[kind].parties)
    for i, (ctx, part) in enumerate(zip(ctxs, parts, strict=True)):
        alone = pool.convert(render_docx(kind, ctx), f"{kind}-{i}.docx")
        assert pdf_text(part) == pdf_text(alone)
        assert ctx["volunteer"]["name"] in pdf_text(part)


def test_missing_field_is_named_with_its_path() -> None:
    ctxs = contexts("notice", 2)
    del ctxs[1]["volunteer"]["university"]
    with pytest.raises(TemplateFieldMissing) as info:
        render_many("notice", ctxs)
    assert info.value.field == "volunteer.university"
    assert info.value.template == "notice"


def test_missing_glyph_in_any_context_is_refused() -> None:
    ctxs = contexts("notice", 2)
    ctxs[1]["volunteer"]["name"] = "张\U000f0000"  # private use plane: no font draws it
    with pytest.raises(MissingGlyphs):
        render_many("notice", ctxs)


def test_markup_in_data_is_escaped() -> None:
    ctxs = contexts("notice", 2)
    ctxs[0]["post"]["unit"] = "A & B <c>"
    docx = render_many("notice", ctxs)
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    for cell_text in (c.text for t in Document(io.BytesIO(docx)).tables for r in t.rows for c in r.cells):
        text += cell_text
    assert "A & B <c>" in text


def _template(build) -> bytes:  # type: ignore[no-untyped-def]
    doc = Document()
    doc.add_paragraph("通知 {{ volunteer.name }}")
    build(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _numbered(doc) -> None:  # type: ignore[no-untyped-def]
    doc.add_paragraph("第一条", style="List Number")


def _header_tag(doc) -> None:  # type: ignore[no-untyped-def]
    doc.sections[0].header.paragraphs[0].text = "{{ volunteer.name }}"


def _two_sections(doc) -> None:  # type: ignore[no-untyped-def]
    doc.add_section()
    doc.add_paragraph("第二节")


def _page_field(doc) -> None:  # type: ignore[no-untyped-def]
    p = doc.add_paragraph("第")
    p._p.append(
        parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )


def _footer_page_field(doc) -> None:  # type: ignore[no-untyped-def]
    para = doc.sections[0].footer.paragraphs[0]
    para._p.append(
        parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )


def _footnote_ref(doc) -> None:  # type: ignore[no-untyped-def]
    p = doc.add_paragraph("注")
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:footnoteReference w:id="1"/></w:r>'))


@pytest.mark.parametrize(
    "build", [_numbered, _header_tag, _two_sections, _page_field, _footer_page_field, _footnote_ref]
)
def test_unsafe_templates_are_not_batched(build) -> None:  # type: ignore[no-untyped-def]
    template = _template(build)
    ctxs = [{"volunteer": {"name": "柏翠鸥"}}, {"volunteer": {"name": "葛琼鹭"}}]
    with pytest.raises(NotBatchable):
        render_many(template, ctxs)


def test_plain_uploaded_template_is_batched_page_per_person(pool: ConverterPool) -> None:
    def page_break_inside(doc) -> None:  # type: ignore[no-untyped-def]
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_paragraph("第二页 XIBU-SIG:volunteer")

    template = _template(page_break_inside)
    ctxs = [{"volunteer": {"name": n}} for n in ("柏翠鸥", "葛琼鹭", "寇霜燕")]
    pdf = pool.convert(render_many(template, ctxs), "upload.docx")
    parts = split_documents(pdf, 3, ["volunteer"])
    for ctx, part in zip(ctxs, parts, strict=True):
        assert pdf_text(part) == f"通知{ctx['volunteer']['name']}第二页XIBU-SIG:volunteer"
