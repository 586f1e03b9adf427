"""Checks an uploaded template must pass before the registry activates it.

An admin may upload a reworded template; a bad one would fail (or worse, print wrong) for every
volunteer in the next batch. So a version is refused unless it opens as DOCX, uses only the names
the kind's context provides, carries every party's signature anchor, and renders the kind's sample
data. Problems are Chinese sentences for the admin; an empty list means the template may go live.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable

from docx import Document
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError

from doc_templates.anchors import find_anchors
from doc_templates.context import build_context
from doc_templates.kinds import Kind, anchor_token, get_kind
from doc_templates.render import RenderError, TemplateFieldMissing, make_environment, render_docx
from doc_templates.samples import sample

__all__ = ["check_template", "template_version"]


def template_version(docx_bytes: bytes) -> str:
    """The registry's version id of a template: the SHA-256 of its exact bytes, hex."""
    return hashlib.sha256(docx_bytes).hexdigest()


def _paragraph_texts(docx_bytes: bytes) -> list[str]:
    """Text of every paragraph, runs joined: Word splits typed text into runs at will."""
    doc = Document(io.BytesIO(docx_bytes))
    parts = [doc.element.body]
    for section in doc.sections:
        parts += [section.header._element, section.footer._element]
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for part in parts for p in part.iter(qn("w:p"))]


def check_template(
    kind: Kind | str, docx_bytes: bytes, *, convert: Callable[[bytes], bytes] | None = None
) -> list[str]:
    """Problems that forbid activating ``docx_bytes`` as a template of ``kind``; [] if none.

    With ``convert`` (DOCX → PDF bytes, e.g. the LibreOffice pool), the rendered sample is also
    converted and each anchor must be found in the PDF, where signing will look for it.
    """
    kind = get_kind(kind) if isinstance(kind, str) else kind
    try:
        with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
            if "word/document.xml" not in z.namelist():
                return ["文件不是Word文档（缺少 word/document.xml）"]
        texts = _paragraph_texts(docx_bytes)
    except Exception:  # any parse failure means the same thing to the admin
        return ["无法打开：文件不是有效的 .docx 文档"]

    problems: list[str] = []
    try:
        used = DocxTemplate(io.BytesIO(docx_bytes)).get_undeclared_template_variables(make_environment())
    except TemplateSyntaxError as exc:
        return [f"模板语法错误：{exc.message}（第{exc.lineno}行附近）"]
    foreign = sorted(used - kind.variables)
    if foreign:
        problems.append(
            f"模板使用了{kind.title}不提供的字段：{'、'.join(foreign)}；可用字段：{'、'.join(sorted(kind.variables))}"
        )

    joined = "\n".join(texts)
    for party in kind.parties:
        token = anchor_token(party)
        if token not in joined:
            problems.append(f"缺少签章锚点“{token}”（{party}的签名位置）")
        elif joined.count(token) > 1:
            problems.append(f"签章锚点“{token}”出现了多次")
    if problems:
        return problems

    try:
        rendered = render_docx(docx_bytes, build_context(sample(kind.code)))
    except TemplateFieldMissing as exc:
        return [f"用示例数据渲染失败：字段“{exc.field}”不存在"]
    except RenderError as exc:
        return [f"用示例数据渲染失败：{exc}"]

    if convert is not None:
        found = find_anchors(convert(rendered))
        missing = [p for p in kind.parties if p not in found]
        if missing:
            problems.append(
                f"转换为PDF后找不到签章锚点：{'、'.join(missing)}（锚点文字须为连续文本，不能拆行）"
            )
    return problems
