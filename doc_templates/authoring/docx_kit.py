"""Small python-docx helpers for Chinese official-document layout (GB/T 9704-2012 habits).

python-docx sets only the Latin font name on a run; Chinese text follows ``w:eastAsia``, which it
does not expose. Every run written here sets all three slots, so Word and LibreOffice agree on the
face, and each run holds at most one Jinja tag, so docxtpl never meets a tag split across runs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from doc_templates.kinds import anchor_token

TITLE = "方正小标宋简体"
BODY = "仿宋_GB2312"
HEADING = "黑体"
KAI = "楷体_GB2312"
LATIN = "Times New Roman"
RED = "E60012"  # the red of printed mastheads

CENTER = WD_ALIGN_PARAGRAPH.CENTER
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
LEFT = WD_ALIGN_PARAGRAPH.LEFT
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY

Container = DocumentObject | _Cell
_FIXED_TIME = datetime(2020, 6, 15, 0, 0, 0)


def new_document(
    *, top: float, bottom: float, left: float, right: float, landscape: bool = False, title: str
) -> DocumentObject:
    """An empty A4 document with fixed metadata (so the built file's SHA-256 never drifts)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.header_distance, section.footer_distance = Mm(15), Mm(12)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(16)
    _set_fonts(normal.element.get_or_add_rPr(), BODY)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    pf = normal.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    props = doc.core_properties
    props.title, props.subject, props.author, props.last_modified_by = (
        title,
        "西部计划",
        "Xibu Docs",
        "Xibu Docs",
    )
    props.comments, props.keywords, props.category = "", "", ""
    props.created = props.modified = props.last_printed = _FIXED_TIME
    props.revision = 1
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    return doc


def _set_fonts(rpr: Any, east_asia: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot, name in (("w:ascii", LATIN), ("w:hAnsi", LATIN), ("w:eastAsia", east_asia), ("w:cs", LATIN)):
        fonts.set(qn(slot), name)
    fonts.set(qn("w:hint"), "eastAsia")


def para(
    where: Container,
    parts: str | Sequence[tuple[str, str]] = "",
    *,
    font: str = BODY,
    size: float = 16,
    align: Any = JUSTIFY,
    indent: bool = False,
    line: float | None = None,
    before: float = 0,
    after: float = 0,
    bold: bool = False,
    color: str | None = None,
    scale: int | None = None,
    keep_next: bool = False,
    right_indent: float = 0,
) -> Paragraph:
    """Append a paragraph. ``parts`` is text, or (font, text) pairs for mixed 黑体 / 仿宋 runs."""
    p = where.add_paragraph()
    pf = p.paragraph_format
    pf.alignment = align
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    if line is not None:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line)
    if indent:
        pf.first_line_indent = Pt(2 * size)
    if right_indent:
        pf.right_indent = Pt(right_indent)
    pf.keep_with_next = keep_next
    pf.widow_control = True
    for run_font, text in [(font, parts)] if isinstance(parts, str) else parts:
        if text:
            run(p, text, font=run_font, size=size, bold=bold, color=color, scale=scale)
    return p


def run(
    p: Paragraph,
    text: str,
    *,
    font: str = BODY,
    size: float = 16,
    bold: bool = False,
    color: str | None = None,
    scale: int | None = None,
) -> None:
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.bold = bold or None
    if color:
        r.font.color.rgb = RGBColor.from_string(color)
    rpr = r._r.get_or_add_rPr()
    _set_fonts(rpr, font)
    if scale:
        w = OxmlElement("w:w")
        w.set(qn("w:val"), str(scale))
        rpr.append(w)


def anchor(
    where: Container,
    party: str,
    *,
    align: Any = CENTER,
    before: float = 0,
    after: float = 0,
    right_indent: float = 0,
) -> None:
    """A paragraph holding ``party``'s signature anchor: 4 pt white ASCII, found in the PDF by doc_templates.anchors."""
    p = para(where, "", align=align, line=6, before=before, after=after, right_indent=right_indent)
    run(p, anchor_token(party), font=BODY, size=4, color="FFFFFF")


def bottom_rule(p: Paragraph, *, color: str = RED, eighths: int = 18, space: int = 6) -> None:
    """A rule under the paragraph: the red line that separates a masthead from the text."""
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", str(eighths)),
        ("w:space", str(space)),
        ("w:color", color),
    ):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)


def page_border(
    doc: DocumentObject, *, color: str, style: str = "thinThickSmallGap", eighths: int = 24
) -> None:
    sect = doc.sections[0]._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        for key, value in (("w:val", style), ("w:sz", str(eighths)), ("w:space", "24"), ("w:color", color)):
            el.set(qn(key), value)
        borders.append(el)
    # w:pgBorders must come right after w:pgMar in CT_SectPr.
    sect.find(qn("w:pgMar")).addnext(borders)


def table(where: DocumentObject, widths_mm: Sequence[float], rows: int, *, grid: bool = True) -> Table:
    """A fixed-layout table: LibreOffice honours w:gridCol widths, Word honours cell widths; set both."""
    t = where.add_table(rows=rows, cols=len(widths_mm))
    if grid:
        t.style = where.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tbl_pr = t._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    for col, width in zip(t._tbl.tblGrid.iterchildren(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in t.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    return t


def cell(t: Table, row: int, col: int, span: int = 1) -> _Cell:
    """The cell at (row, col), merged rightwards over ``span`` columns, emptied of its blank paragraph."""
    c = t.cell(row, col)
    if span > 1:
        c = c.merge(t.cell(row, col + span - 1))
    for p in list(c._tc.iterchildren(qn("w:p"))):
        c._tc.remove(p)
    return c


def row_height(t: Table, row: int, mm: float, *, exact: bool = False) -> None:
    r = t.rows[row]
    r.height = Mm(mm)
    r.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY if exact else WD_ROW_HEIGHT_RULE.AT_LEAST
    tr_pr = r._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))


def top_align(c: _Cell) -> None:
    c.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.TOP


def save_deterministic(doc: DocumentObject) -> bytes:
    """DOCX bytes that depend only on the content: zip entries get a fixed timestamp."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()
