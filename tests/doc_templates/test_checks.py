"""Upload checks for template versions, and the built-in templates' own build."""

from __future__ import annotations

import hashlib
import io

import pytest
from docx import Document
from docx.oxml.ns import qn

from doc_templates.authoring.build_kinds import build
from doc_templates.checks import check_template, template_version
from doc_templates.kinds import KINDS, anchor_token
from tests.doc_templates.soffice import convert


def _edit(kind: str, *, add: str | None = None, drop_anchor: str | None = None) -> bytes:
    doc = Document(io.BytesIO(KINDS[kind].template_path.read_bytes()))
    if add:
        doc.add_paragraph(add)
    if drop_anchor:
        token = anchor_token(drop_anchor)
        for el in doc.element.body.iter(qn("w:t")):
            if el.text and token in el.text:
                el.text = el.text.replace(token, "")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_built_in_templates_pass(kind):
    assert check_template(kind, KINDS[kind].template_path.read_bytes()) == []


def test_foreign_variable_is_refused_and_named():
    problems = check_template("notice", _edit("notice", add="{{ salary.amount }}"))
    assert len(problems) == 1 and "salary" in problems[0]


def test_another_kinds_variables_are_refused():
    problems = check_template("notice", _edit("notice", add="{{ term.start }}"))
    assert any("term" in p for p in problems)


def test_missing_anchor_is_refused_and_named():
    problems = check_template("agreement", _edit("agreement", drop_anchor="unit"))
    assert problems == [f"缺少签章锚点“{anchor_token('unit')}”（unit的签名位置）"]


def test_unknown_attribute_fails_the_sample_render():
    problems = check_template("certificate", _edit("certificate", add="{{ volunteer.nickname }}"))
    assert problems and "volunteer.nickname" in problems[0]


def test_syntax_error_and_non_docx_are_refused():
    assert check_template("notice", _edit("notice", add="{{ volunteer.name ")) != []
    assert check_template("notice", b"PK\x03\x04 not really") == ["无法打开：文件不是有效的 .docx 文档"]


@pytest.mark.slow
def test_with_a_converter_the_anchor_is_found_in_the_pdf():
    assert check_template("notice", KINDS["notice"].template_path.read_bytes(), convert=convert) == []


def test_version_is_the_sha256_of_the_bytes():
    data = KINDS["notice"].template_path.read_bytes()
    assert template_version(data) == hashlib.sha256(data).hexdigest()


def test_committed_templates_are_what_the_script_builds(tmp_path):
    built = build(tmp_path)
    for code, path in built.items():
        assert template_version(path.read_bytes()) == template_version(
            KINDS[code].template_path.read_bytes()
        ), f"{code}.docx is stale: run python -m doc_templates.authoring.build_kinds"
