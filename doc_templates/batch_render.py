"""Many contexts → ONE DOCX, each person's document starting on a new page, in a single docxtpl pass.

Why: LibreOffice's cost is per document, not per page, and docxtpl's cost is mostly per render
(unzip, XML clean-up, zip). Rendering K people in one pass and converting the result once is what
makes a 1,300-document batch fast; :mod:`doc_templates.pdf_split` then cuts the PDF per person.

The template's body (all but the final ``w:sectPr``) is wrapped in a paragraph-level docxtpl loop;
the kind's top-level names are re-bound from each item, so the template's own tags stay as they are
and a missing field is still reported by its own path. Iterations after the first start with
``w:pageBreakBefore`` on their first paragraph, so no empty paragraph is added to any page.

Only templates whose pages come out the same whether joined or alone are merged. Anything that
counts across the document (list numbering, page fields, footnotes), anything per section, and
tags in headers or footers (rendered once for the whole batch) make :class:`NotBatchable`; the
caller then renders one by one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from lxml import etree

from doc_templates.fonts import missing_glyphs
from doc_templates.kinds import Kind
from doc_templates.render import (
    MissingGlyphs,
    RenderError,
    TemplateFieldMissing,
    _MissingField,
    _prepare,
    _strings,
    load_template,
    make_environment,
    template_name,
)

__all__ = ["NotBatchable", "render_many"]

_BATCH = "xibu_batch_"
_ITEM = "xibu_item_"
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_JINJA = re.compile(r"\{[{%#]")
# docxtpl removes the whole paragraph/row/cell/run holding such a tag, with our page break in it.
_STRUCTURAL = re.compile(r"\{%-?\s*(p|tr|tc|r)\s")
# Elements of pPr that must precede w:pageBreakBefore (ECMA-376 order).
_BEFORE_PAGE_BREAK = {qn("w:pStyle"), qn("w:keepNext"), qn("w:keepLines")}
# Whatever counts or refers across the whole document would run on from one person to the next.
_REFUSED = {
    qn("w:numPr"): "列表编号会跨文档连续",
    qn("w:footnoteReference"): "含脚注",
    qn("w:endnoteReference"): "含尾注",
    qn("w:commentReference"): "含批注",
    qn("w:fldSimple"): "含域代码（页码等）",
    qn("w:fldChar"): "含域代码（页码等）",
    qn("w:instrText"): "含域代码（页码等）",
    qn("w:sectPr"): "含多个节",
}
_HF_TYPES = ("/header", "/footer", "/footnotes", "/endnotes")


class NotBatchable(RenderError):
    """Merging would change someone's pages: render these documents one by one instead."""

    def __init__(self, reason: str, template: str) -> None:
        super().__init__(f"cannot batch: {reason}", template)
        self.reason = reason


def _check_parts(tpl: DocxTemplate, name: str) -> None:
    """Headers/footers are shared by all pages of the section, and settings can alternate pages."""
    part = tpl.docx.part
    for rel in part.rels.values():
        if rel.is_external or not rel.reltype.endswith(_HF_TYPES):
            continue
        xml = rel.target_part.blob.decode("utf-8", "replace")
        kind = rel.reltype.rsplit("/", 1)[-1]
        if _JINJA.search(xml):
            raise NotBatchable(f"{kind} 中有模板标记", name)
        if re.search(r"<w:(fldSimple|fldChar|instrText)\b", xml):
            raise NotBatchable(f"{kind} 中有域代码（页码等）", name)
    settings = tpl.docx.settings.element
    for tag in ("w:evenAndOddHeaders", "w:mirrorMargins", "w:gutterAtTop"):
        if settings.find(qn(tag)) is not None:
            raise NotBatchable(f"设置 {tag} 使奇偶页不同", name)


def _numbered_styles(tpl: DocxTemplate) -> set[str]:
    styles = tpl.docx.styles.element
    out = set()
    for style in styles.iterfind(qn("w:style")):
        if style.find(f"{qn('w:pPr')}/{qn('w:numPr')}") is not None:
            out.add(style.get(qn("w:styleId")))
    return out


def _check_body(tpl: DocxTemplate, body: etree._Element, name: str) -> etree._Element:
    """Refuse what would differ when joined; return the final sectPr."""
    children = list(body)
    if not children or children[-1].tag != qn("w:sectPr"):
        raise NotBatchable("正文末尾没有节属性", name)
    final = children[-1]
    if final.find(qn("w:titlePg")) is not None:
        raise NotBatchable("首页页眉页脚不同", name)
    numbered = _numbered_styles(tpl)
    for child in children[:-1]:
        for el in child.iter():
            reason = _REFUSED.get(el.tag)
            if reason:
                raise NotBatchable(reason, name)
            if el.tag == qn("w:pStyle") and el.get(qn("w:val")) in numbered:
                raise NotBatchable("列表编号会跨文档连续", name)
    return final


def _tag_paragraph(text: str) -> etree._Element:
    p = etree.Element(qn("w:p"))
    r = etree.SubElement(p, qn("w:r"))
    t = etree.SubElement(r, qn("w:t"))
    t.text = text
    return p


def _first_paragraph(el: etree._Element, name: str) -> etree._Element:
    """The paragraph whose pPr gets the page break: the body's first, or the first cell's first."""
    if el.tag == qn("w:p"):
        para = el
    elif el.tag == qn("w:tbl"):
        para = next(el.iter(qn("w:p")), None)
        if para is None:
            raise NotBatchable("首个表格没有段落", name)
    else:
        raise NotBatchable(f"正文以 {etree.QName(el).localname} 开始", name)
    text = "".join(el.itertext())
    if _STRUCTURAL.search(text):
        # A tag paragraph would be removed by docxtpl together with our page break.
        raise NotBatchable("正文首段含段落级模板标记", name)
    return para


def _add_page_break(para: etree._Element) -> None:
    ppr = para.find(qn("w:pPr"))
    if ppr is None:
        ppr = etree.Element(qn("w:pPr"))
        para.insert(0, ppr)
    if ppr.find(qn("w:pageBreakBefore")) is not None:
        return
    idx = 0
    for i, child in enumerate(ppr):
        if child.tag in _BEFORE_PAGE_BREAK:
            idx = i + 1
    marker = etree.Element(qn("w:pageBreakBefore"))
    # Replaced in the XML text by a Jinja condition: only iterations after the first break.
    marker.set(qn("w:val"), "XIBU_PB_")
    ppr.insert(idx, marker)


def _wrap_body(body: etree._Element, variables: Sequence[str], name: str) -> None:
    final = body[-1]
    content = list(body)[:-1]
    if not content:
        raise NotBatchable("正文为空", name)
    _add_page_break(_first_paragraph(content[0], name))
    opening = [_tag_paragraph(f"{{%p for {_ITEM} in {_BATCH} %}}")]
    opening += [_tag_paragraph(f"{{%p set {v} = {_ITEM}.{v} %}}") for v in variables]
    for p in opening:
        content[0].addprevious(p)
    final.addprevious(_tag_paragraph("{%p endfor %}"))


def _variables(template: Kind | str | bytes, contexts: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    keys = set(contexts[0])
    for ctx in contexts[1:]:
        if set(ctx) != keys:
            raise RenderError(f"contexts differ in top-level keys: {sorted(keys ^ set(ctx))}", name)
    for key in keys:
        if not _IDENT.match(key) or key in (_BATCH, _ITEM, "loop"):
            raise NotBatchable(f"上下文键 {key!r} 不能用于批量渲染", name)
    return sorted(keys)


def render_many(
    template: Kind | str | bytes, contexts: Sequence[Mapping[str, Any]], *, check_glyphs: bool = True
) -> bytes:
    """One DOCX holding ``contexts``' documents in order, each starting on a new page.

    Raises what :func:`doc_templates.render.render_docx` raises for any one context, and
    :class:`NotBatchable` when the template cannot be merged without changing someone's pages.
    """
    name = template_name(template)
    if not contexts:
        raise ValueError("render_many needs at least one context")
    variables = _variables(template, contexts, name)
    if check_glyphs:
        lacking = missing_glyphs(s for ctx in contexts for s in _strings(ctx))
        if lacking:
            raise MissingGlyphs(lacking, name)
    tpl = DocxTemplate(io.BytesIO(load_template(template)))
    tpl.init_docx()
    _check_parts(tpl, name)
    body = tpl.docx.element.body
    _check_body(tpl, body, name)
    _wrap_body(body, variables, name)
    batch = [_prepare(tpl, dict(ctx), "") for ctx in contexts]
    env = make_environment()
    _patch_get_xml(tpl)
    try:
        tpl.render({_BATCH: batch}, jinja_env=env, autoescape=True)
    except _MissingField as exc:
        raise TemplateFieldMissing(exc.field, name) from None
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}", name) from exc
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _patch_get_xml(tpl: DocxTemplate) -> None:
    """Turn the page-break marker into a condition on the batch loop once the body is text.

    ``render_init`` does not reload an unrendered document, so the edited body is what renders.
    """
    original = tpl.get_xml

    def get_xml() -> str:
        xml: str = original()
        return xml.replace(
            '<w:pageBreakBefore w:val="XIBU_PB_"/>',
            "{% if not loop.first %}<w:pageBreakBefore/>{% endif %}",
        )

    tpl.get_xml = get_xml
