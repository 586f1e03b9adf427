"""PROBE, not production: join K one-section DOCX documents into one for a single conversion.

Kept in bench/ because the other half (splitting the PDF so each person's file carries only
their own glyphs and images) is not done; see the report in bench/convert.py's docstring.

LibreOffice's cost is per document, not per page, so one conversion of K joined documents is
much cheaper than K conversions. Each part starts with a bookmark ``xibu_part_<k>``; exported as
a PDF named destination it tells the splitter where each part begins.

Only what can be joined without changing any part's output is accepted: body text, tables and
images. Lists (numbering would run on across parts), page-number fields, footnotes, comments and
differing headers are refused with :class:`NotMergeable`, and the caller converts one by one.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

__all__ = ["BOOKMARK_PREFIX", "NotMergeable", "join_docx"]

BOOKMARK_PREFIX = "xibu_part_"
_R_ATTRS = (qn("r:embed"), qn("r:link"), qn("r:id"))
_REFUSED_TAGS = {qn("w:numPr"), qn("w:footnoteReference"), qn("w:endnoteReference"), qn("w:commentReference")}


class NotMergeable(Exception):
    """These documents cannot be joined without changing one of them: convert them one by one."""


def _parts_text(doc: object, kind: str) -> list[bytes]:
    out = []
    for section in doc.sections:  # type: ignore[attr-defined]
        for hf in (getattr(section, kind), getattr(section, f"first_page_{kind}")):
            if not hf.is_linked_to_previous:
                out.append(etree.tostring(hf._element))
    return out


def _check(doc: object, body: etree._Element, first: object) -> None:
    for el in body.iter():
        if el.tag in _REFUSED_TAGS:
            raise NotMergeable(f"body uses {etree.QName(el).localname}")
        if el.tag == qn("w:instrText") and ("PAGE" in (el.text or "") or "SECTION" in (el.text or "")):
            raise NotMergeable("body has a page-number field")
    if len(doc.sections) != 1:  # type: ignore[attr-defined]
        raise NotMergeable("document has more than one section")
    for kind in ("header", "footer"):
        if _parts_text(doc, kind) != _parts_text(first, kind):
            raise NotMergeable(f"{kind}s differ between documents")


def join_docx(docs: Sequence[bytes]) -> bytes:
    """One DOCX whose part k is ``docs[k]``, each on its own page(s), marked by a bookmark."""
    if not docs:
        raise ValueError("nothing to join")
    base = Document(io.BytesIO(docs[0]))
    base_body = base.element.body
    final_sectpr = base_body.find(qn("w:sectPr"))
    if final_sectpr is None:
        raise NotMergeable("document has no section properties")
    _check(base, base_body, base)
    for el in base.element.iter(qn("w:fldSimple")):
        if "PAGE" in (el.get(qn("w:instr")) or ""):
            raise NotMergeable("page-number field")
    _mark(base_body, 0)
    for k, blob in enumerate(docs[1:], start=1):
        src = Document(io.BytesIO(blob))
        body = src.element.body
        _check(src, body, base)
        # Close the previous part with a section break carrying its page setup, so part k starts
        # on a new page exactly as it would on its own.
        brk = etree.SubElement(etree.Element(qn("w:p")), qn("w:pPr"))
        brk.append(copy.deepcopy(final_sectpr))
        final_sectpr.addprevious(brk.getparent())
        first_new = None
        for el in list(body):
            if el.tag == qn("w:sectPr"):
                continue
            el = copy.deepcopy(el)
            _relink(el, src, base)
            final_sectpr.addprevious(el)
            first_new = first_new if first_new is not None else el
        if first_new is None:
            raise NotMergeable("empty document")
        _mark_element(first_new, k)
    out = io.BytesIO()
    base.save(out)
    return out.getvalue()


def _relink(el: etree._Element, src: object, base: object) -> None:
    """Point relationship ids in a copied element at parts of ``base``: images and links only."""
    src_rels = src.part.rels  # type: ignore[attr-defined]
    for node in el.iter():
        for attr in _R_ATTRS:
            rid = node.get(attr)
            if rid is None:
                continue
            rel = src_rels[rid]
            if rel.reltype == RT.IMAGE and not rel.is_external:
                new_rid, _ = base.part.get_or_add_image(io.BytesIO(rel.target_part.blob))  # type: ignore[attr-defined]
            elif rel.reltype == RT.HYPERLINK and rel.is_external:
                new_rid = base.part.relate_to(rel.target_ref, RT.HYPERLINK, is_external=True)  # type: ignore[attr-defined]
            else:
                raise NotMergeable(f"relationship type {rel.reltype.rsplit('/', 1)[-1]} is not supported")
            node.set(attr, new_rid)


def _mark(body: etree._Element, k: int) -> None:
    first = next((el for el in body if el.tag != qn("w:sectPr")), None)
    if first is None:
        raise NotMergeable("empty document")
    _mark_element(first, k)


def _mark_element(el: etree._Element, k: int) -> None:
    """Put a bookmark at the start of the part's first paragraph (or first cell's paragraph)."""
    para = el if el.tag == qn("w:p") else next(el.iter(qn("w:p")), None)
    if para is None:
        raise NotMergeable("part has no paragraph to mark")
    start = etree.Element(qn("w:bookmarkStart"))
    start.set(qn("w:id"), str(900000 + k))
    start.set(qn("w:name"), f"{BOOKMARK_PREFIX}{k}")
    end = etree.Element(qn("w:bookmarkEnd"))
    end.set(qn("w:id"), str(900000 + k))
    ppr = para.find(qn("w:pPr"))
    idx = 0 if ppr is None else list(para).index(ppr) + 1
    para.insert(idx, start)
    para.insert(idx + 1, end)
