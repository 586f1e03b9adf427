"""DOCX → PDF: the one way in. Everything else in ``doc_templates.libreoffice`` is machinery.

Usage::

    with ConverterPool(size=2, env={"FONTCONFIG_FILE": fonts_conf}) as pool:
        pdf = pool.convert(docx_bytes, "notice-0001.docx")
        for result in pool.convert_many(items):  # (name, docx) pairs, results in order
            ...
"""

from __future__ import annotations

from doc_templates.libreoffice.errors import ConversionError
from doc_templates.libreoffice.pdfcheck import check_pdf
from doc_templates.libreoffice.pool import ConversionResult, ConverterPool, PoolStats, reap_orphans

__all__ = [
    "ConversionError",
    "ConversionResult",
    "ConverterPool",
    "PoolStats",
    "check_pdf",
    "reap_orphans",
]
