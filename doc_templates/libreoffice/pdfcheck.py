"""Reject output that is not a usable PDF: LibreOffice can "succeed" and write nothing useful."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from doc_templates.libreoffice.errors import ConversionError

__all__ = ["check_pdf"]


def check_pdf(pdf: bytes, name: str) -> int:
    """Return the page count, or raise ConversionError naming the document."""
    if not pdf:
        raise ConversionError(name, "生成的 PDF 为空")
    try:
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
    except (PyPdfError, ValueError, KeyError) as exc:
        raise ConversionError(name, f"生成的 PDF 无法解析（{type(exc).__name__}）") from exc
    if pages == 0:
        raise ConversionError(name, "生成的 PDF 没有页面")
    return pages
