"""A plain one-page PDF from the real LibreOffice pool, for signing tests that need no template."""

from __future__ import annotations

import io

import pytest

from tests.documents.conftest import converter  # noqa: F401  (session fixture: the LibreOffice pool)
from tests.fixtures.pki_server import pki_server  # noqa: F401  (session fixture: uvicorn serving /pki)


@pytest.fixture(scope="session")
def plain_pdf(converter) -> bytes:  # noqa: F811
    from docx import Document

    d = Document()
    d.add_paragraph("证书测试文件：自有证书签署。")
    buf = io.BytesIO()
    d.save(buf)
    return converter.convert(buf.getvalue(), "plain.docx")
