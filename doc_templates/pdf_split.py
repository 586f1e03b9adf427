"""Cut the PDF of a merged batch (see :mod:`doc_templates.batch_render`) into one PDF per person.

Each output must carry only its own person's content, and LibreOffice does not make that easy: it
writes one /Resources dictionary shared by all pages (every page references every person's QR
image and every font) and one font subset per face for the whole batch. So each output is built
from scratch: pages keep their own content streams; their resources hold only what those streams
name; every font is re-subset to the codes the output's pages show (:mod:`doc_templates.pdf_fonts`),
with ToUnicode and Widths cut to match. Anything not understood (Type 0 or Type 3 fonts, form
XObjects, patterns, annotations) raises :class:`SplitError`, and the caller converts one by one.

Page boundaries come from the signature anchors: every document has each party's anchor once, in
the same order, and ends on the page with its last anchor.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from doc_templates.anchors import anchors_in, page_words, remember_anchors
from doc_templates.kinds import anchor_token
from doc_templates.pdf_fonts import FontSubsetError, TrueTypeSource, Type1Source, to_unicode

__all__ = ["SplitError", "document_pages", "split_documents"]


class SplitError(ValueError):
    """The merged PDF cannot be split safely; the message says why (convert one by one instead)."""


def document_pages(page_texts: Sequence[str], count: int, parties: Sequence[str]) -> list[range]:
    """Page ranges of the ``count`` documents, from the order of their anchors."""
    if count < 1 or not parties:
        raise SplitError("need at least one document and one party")
    tokens = sorted({anchor_token(p) for p in parties}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in tokens))
    found = [(m.group(0), index) for index, text in enumerate(page_texts) for m in pattern.finditer(text)]
    expected = [anchor_token(p) for p in parties] * count
    if [t for t, _ in found] != expected:
        raise SplitError(
            f"合并的 PDF 中签名锚点不符：应有 {len(expected)} 个（{count} 份 × {len(parties)} 方，顺序一致），"
            f"实有 {len(found)} 个"
        )
    ranges = []
    start = 0
    for i in range(count):
        first_page = found[i * len(parties)][1]
        last_page = found[(i + 1) * len(parties) - 1][1]
        if first_page < start:
            raise SplitError(f"第 {i + 1} 份文档与上一份共用一页")
        ranges.append(range(start, last_page + 1))
        start = last_page + 1
    if start != len(page_texts):
        raise SplitError(f"最后一份文档之后还有 {len(page_texts) - start} 页")
    return ranges


@dataclass
class _Usage:
    """What one output's content streams name, per resource category."""

    codes: dict[tuple[int, int], set[int]] = field(default_factory=dict)  # font objgen → codes
    names: dict[str, set[str]] = field(default_factory=dict)  # category → resource names


_TEXT_OPS = {"Tj", "'", '"', "TJ"}
_NAME_OPS = {"Do": "/XObject", "gs": "/ExtGState", "sh": "/Shading", "cs": "/ColorSpace", "CS": "/ColorSpace"}
_DEVICE_SPACES = {"/DeviceGray", "/DeviceRGB", "/DeviceCMYK", "/Pattern"}


def _scan_page(page: pikepdf.Page, usage: _Usage) -> None:
    resources = page.obj.get("/Resources", Dictionary())
    fonts = resources.get("/Font", Dictionary())
    font_stack: list[pikepdf.Object | None] = []
    font: pikepdf.Object | None = None
    for instruction in pikepdf.parse_content_stream(page):
        operands, op = instruction.operands, str(instruction.operator)
        if op in _TEXT_OPS:
            if font is None:
                raise SplitError("text shown with no font selected")
            codes = usage.codes.setdefault(font.objgen, set())
            for operand in operands[-1] if op == "TJ" else operands[-1:]:
                if isinstance(operand, pikepdf.String):
                    codes.update(bytes(operand))
        elif op == "Tf":
            name = str(operands[0])
            if name not in fonts:
                raise SplitError(f"content uses font {name} that the page does not define")
            font = fonts[name]
            usage.names.setdefault("/Font", set()).add(name)
        elif op == "q":
            font_stack.append(font)
        elif op == "Q":
            font = font_stack.pop() if font_stack else font
        elif op in _NAME_OPS and operands and isinstance(operands[0], Name):
            name = str(operands[0])
            if op in ("cs", "CS") and name in _DEVICE_SPACES:
                if name == "/Pattern":
                    raise SplitError("pattern colour spaces are not supported")
                continue
            usage.names.setdefault(_NAME_OPS[op], set()).add(name)
        elif op in ("scn", "SCN") and operands and isinstance(operands[-1], Name):
            raise SplitError("patterns are not supported")


class _FontCache:
    """Each font of the merged PDF parsed once, written out per output with that output's codes."""

    def __init__(self, popularity: dict[tuple[int, int], Counter[int]]) -> None:
        self._sources: dict[tuple[int, int], Type1Source | TrueTypeSource] = {}
        self._popularity = popularity  # font objgen → how many outputs show each code

    def source(self, font: pikepdf.Object) -> Type1Source | TrueTypeSource:
        key = font.objgen
        if key not in self._sources:
            self._sources[key] = self._load(font)
        return self._sources[key]

    @staticmethod
    def _load(font: pikepdf.Object) -> Type1Source | TrueTypeSource:
        subtype = str(font.get("/Subtype"))
        desc = font.get("/FontDescriptor")
        # An /Encoding entry would route codes through glyph names instead of the font's own table.
        if desc is None or "/ToUnicode" not in font or "/Encoding" in font:
            raise SplitError(f"font {font.get('/BaseFont')} is not laid out as LibreOffice writes it")
        try:
            if subtype == "/Type1" and "/FontFile" in desc:
                ff = desc.FontFile
                return Type1Source(ff.read_bytes(), int(ff.Length1), int(ff.Length2))
            if subtype == "/TrueType" and "/FontFile2" in desc:
                return TrueTypeSource(desc.FontFile2.read_bytes())
        except FontSubsetError as exc:
            raise SplitError(f"font {font.get('/BaseFont')}: {exc}") from exc
        raise SplitError(f"font {font.get('/BaseFont')} of subtype {subtype} cannot be re-subset")

    def build(self, out: Pdf, font: pikepdf.Object, codes: set[int]) -> pikepdf.Object:
        source = self.source(font)
        desc = font.FontDescriptor
        new_desc = Dictionary()
        for key, value in desc.items():
            if key in ("/FontFile", "/FontFile2", "/FontFile3", "/CharSet", "/CIDSet"):
                continue
            new_desc[key] = _own(out, value)
        if isinstance(source, Type1Source):
            data, l1, l2, l3 = source.subset(codes, self._popularity.get(font.objgen))
            stream = pikepdf.Stream(out, data)
            stream.Length1, stream.Length2, stream.Length3 = l1, l2, l3
            new_desc.FontFile = out.make_indirect(stream)
        else:
            data = source.subset(codes)
            stream = pikepdf.Stream(out, data)
            stream.Length1 = len(data)
            new_desc.FontFile2 = out.make_indirect(stream)
        first = int(font.FirstChar)
        widths = [int(w) if first + i in codes else 0 for i, w in enumerate(font.Widths)]
        new_font = Dictionary(
            Type=Name.Font,
            Subtype=font.Subtype,
            BaseFont=font.BaseFont,
            FirstChar=font.FirstChar,
            LastChar=font.LastChar,
            Widths=Array(widths),
            FontDescriptor=out.make_indirect(new_desc),
            ToUnicode=out.make_indirect(pikepdf.Stream(out, to_unicode(font.ToUnicode.read_bytes(), codes))),
        )
        return out.make_indirect(new_font)


_PAGE_KEYS = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit")
_INFO_KEYS = ("/Title", "/Subject", "/Creator", "/Producer", "/CreationDate")


def _copy_resource(out: Pdf, category: str, value: pikepdf.Object) -> pikepdf.Object:
    if category == "/XObject" and value.get("/Subtype") != Name.Image:
        raise SplitError(f"XObject of subtype {value.get('/Subtype')} is not supported")
    if category == "/XObject" and "/SMask" in value and value.SMask.get("/Subtype") != Name.Image:
        raise SplitError("image soft mask is not an image")
    return _own(out, value)


def _own(out: Pdf, value: Any) -> Any:
    """Indirect objects are copied into ``out``; direct values (numbers, boxes) are plain values."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, Array):
        return Array([_own(out, v) for v in value])
    if isinstance(value, Dictionary):
        return Dictionary({k: _own(out, v) for k, v in value.items()})
    return value


@dataclass
class _Part:
    """One output's pages and what their content streams use, scanned before anything is built."""

    pages: range
    scanned: list[_Usage]
    codes: dict[tuple[int, int], set[int]]  # font objgen → codes over all its pages


def _scan(src: Pdf, pages: range) -> _Part:
    codes: dict[tuple[int, int], set[int]] = {}
    scanned: list[_Usage] = []
    for index in pages:
        page = src.pages[index]
        if "/Annots" in page.obj and len(page.obj.Annots):
            raise SplitError(f"page {index + 1} has annotations (links, fields)")
        page_usage = _Usage()
        _scan_page(page, page_usage)
        scanned.append(page_usage)
        for font_key, used in page_usage.codes.items():
            codes.setdefault(font_key, set()).update(used)
    return _Part(pages, scanned, codes)


def _build(src: Pdf, part: _Part, fonts: _FontCache) -> bytes:
    pages, scanned, codes = part.pages, part.scanned, part.codes
    out = Pdf.new()
    new_fonts: dict[tuple[int, int], pikepdf.Object] = {}
    for index, page_usage in zip(pages, scanned, strict=True):
        page = src.pages[index]
        resources = page.obj.get("/Resources", Dictionary())
        new_res = Dictionary()
        if "/ProcSet" in resources:
            new_res.ProcSet = _own(out, resources.ProcSet)
        for category, names in page_usage.names.items():
            table = resources.get(category)
            entries = Dictionary()
            for name in sorted(names):
                if table is None or name not in table:
                    raise SplitError(f"page {index + 1} uses {category} {name} that it does not define")
                value = table[name]
                if category == "/Font":
                    if value.objgen not in new_fonts:
                        new_fonts[value.objgen] = fonts.build(out, value, codes.get(value.objgen, set()))
                    entries[name] = new_fonts[value.objgen]
                else:
                    entries[name] = _copy_resource(out, category, value)
            new_res[category] = entries
        new_page = Dictionary(Type=Name.Page, Resources=new_res)
        for key in _PAGE_KEYS:
            if key in page.obj:
                new_page[key] = _own(out, page.obj[key])
        contents = page.obj.Contents
        parts = [contents] if isinstance(contents, pikepdf.Stream) else list(contents)
        new_page.Contents = out.make_indirect(pikepdf.Stream(out, b"\n".join(c.read_bytes() for c in parts)))
        out.pages.append(pikepdf.Page(out.make_indirect(new_page)))
    for key in _INFO_KEYS:
        if src.docinfo is not None and key in src.docinfo:
            out.docinfo[key] = src.docinfo[key]
    if "/Lang" in src.Root:
        out.Root.Lang = src.Root.Lang
    buf = io.BytesIO()
    # The version LibreOffice declared, not the 1.3 of a new pikepdf document: the content is its.
    out.save(
        buf,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.preserve,
        min_version=src.pdf_version,
    )
    return buf.getvalue()


def split_documents(pdf: bytes, count: int, parties: Sequence[str]) -> list[bytes]:
    """``count`` PDFs, one per document of the merged ``pdf``, each holding only its own content.

    The one ``pdftotext -bbox`` pass that finds the page boundaries also measures every part's
    signature anchors; they are remembered for each part's bytes (pages are copied unchanged, so
    the boxes are the same), and signing a part needs no text extraction of its own.
    """
    words = page_words(pdf)
    ranges = document_pages([" ".join(text for text, _ in page) for page in words], count, parties)
    with Pdf.open(io.BytesIO(pdf)) as src:
        if len(src.pages) != ranges[-1].stop:
            raise SplitError(f"pdftotext saw {ranges[-1].stop} pages, the PDF has {len(src.pages)}")
        scans = [_scan(src, pages) for pages in ranges]
        popularity: dict[tuple[int, int], Counter[int]] = {}
        for scan in scans:
            for font_key, used in scan.codes.items():
                popularity.setdefault(font_key, Counter()).update(used)
        fonts = _FontCache(popularity)
        parts = [_build(src, scan, fonts) for scan in scans]
    for part, pages in zip(parts, ranges, strict=True):
        remember_anchors(part, anchors_in(words[pages.start : pages.stop], first_page=pages.start))
    return parts
