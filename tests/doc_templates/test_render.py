"""DOCX rendering: strict fields, escaping, sandbox, glyph check (no LibreOffice needed)."""

from __future__ import annotations

import copy
import io
import zipfile
from dataclasses import replace

import pytest
from docx import Document

from doc_templates.context import AppraisalData, build_context
from doc_templates.kinds import KINDS
from doc_templates.render import MissingGlyphs, RenderError, TemplateFieldMissing, render_docx
from doc_templates.samples import SAMPLE_PERSON, SAMPLE_UNIT, sample


def _document_xml(docx: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return z.read("word/document.xml").decode()


def _template(*lines: str) -> bytes:
    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_its_sample_without_leftover_tags(kind):
    xml = _document_xml(render_docx(kind, build_context(sample(kind))))
    assert "{{" not in xml and "{%" not in xml
    assert "<pic:pic" in xml  # the QR code image


def test_missing_attribute_names_the_field_path_and_template():
    context = build_context(sample("notice"))
    context["volunteer"] = {k: v for k, v in context["volunteer"].items() if k != "name"}
    with pytest.raises(TemplateFieldMissing) as err:
        render_docx("notice", context)
    assert err.value.field == "volunteer.name"
    assert err.value.template == "notice"
    assert "volunteer.name" in str(err.value) and "notice" in str(err.value)


def test_missing_top_level_name_is_named():
    context = build_context(sample("agreement"))
    del context["allowance"]
    with pytest.raises(TemplateFieldMissing) as err:
        render_docx("agreement", context)
    assert err.value.field == "allowance"


def test_uploaded_template_is_named_by_its_hash():
    with pytest.raises(TemplateFieldMissing) as err:
        render_docx(_template("{{ volunteer.nickname }}"), build_context(sample("notice")))
    assert err.value.field == "volunteer.nickname"
    assert err.value.template.startswith("sha256:")


def test_empty_string_is_a_value_not_a_missing_field():
    appraisal = sample("appraisal")
    assert isinstance(appraisal, AppraisalData)
    data = replace(appraisal, county_opinion="", grade="")
    xml = _document_xml(render_docx("appraisal", build_context(data)))
    assert "□优秀" in xml and "■" not in xml


def test_markup_and_quotes_in_data_are_escaped_not_interpreted():
    xml = _document_xml(render_docx("notice", build_context(sample("notice"))))
    assert '新巴尔虎右旗"青年之家" &amp; &lt;志愿者&gt;服务站' in xml.replace("&#34;", '"')
    # and the result is still a document python-docx can read back, with the text intact
    out = render_docx("notice", build_context(sample("notice")))
    texts = [c.text for t in Document(io.BytesIO(out)).tables for r in t.rows for c in r.cells]
    assert SAMPLE_UNIT in texts


def test_sandbox_refuses_python_internals():
    with pytest.raises(RenderError):
        render_docx(_template("{{ volunteer.name.__class__.__mro__ }}"), build_context(sample("notice")))


def test_character_no_font_has_is_refused_before_rendering():
    person = replace(SAMPLE_PERSON, name="王\U0001f600")
    data = replace(sample("notice"), person=person)
    with pytest.raises(MissingGlyphs) as err:
        render_docx("notice", build_context(data))
    assert err.value.chars == ["\U0001f600"]


def test_context_is_not_modified_by_rendering():
    context = build_context(sample("certificate"))
    before = copy.deepcopy(context)
    render_docx("certificate", context)
    assert context == before


def test_teaching_corps_is_shown_only_where_so():
    corps = build_context(sample("notice"))["post"]["track_text"]
    data = sample("notice")
    plain = build_context(replace(data, placement=replace(data.placement, teaching_corps=False)))
    assert corps == "基础教育专项（研究生支教团）"
    assert plain["post"]["track_text"] == "基础教育专项"
