"""A batch's PDFs as files or one ZIP, streamed from the archive (PDFs are stored, not recompressed)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from service.config import get_settings
from service.documents.batches import batch_documents
from storage.archive import Archive
from storage.db import session_scope
from storage.models import Document


def pdf_name(doc: Document) -> str:
    """File name inside a ZIP: the document number, made safe for every file system."""
    safe = "".join(c if c not in '\\/:*?"<>|' else "_" for c in doc.number)
    return f"{safe}.pdf"


def _documents(batch_id: int) -> list[Document]:
    with session_scope() as session:
        return batch_documents(session, batch_id)


def write_batch(batch_id: int, out: Path) -> int:
    """Write the batch to a directory, or to ``out`` as a ZIP when it ends with ``.zip``."""
    archive = Archive.at(get_settings().data_dir)
    docs = _documents(batch_id)
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            for doc in docs:
                zf.writestr(pdf_name(doc), archive.get(doc.current_sha256))
        return len(docs)
    out.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (out / pdf_name(doc)).write_bytes(archive.get(doc.current_sha256))
    return len(docs)


def zip_stream(batch_id: int) -> Iterator[bytes]:
    """The batch as a ZIP, produced piece by piece so a thousand PDFs never sit in memory at once."""
    archive = Archive.at(get_settings().data_dir)
    docs = _documents(batch_id)
    sink = _Chunks()
    with zipfile.ZipFile(cast(IO[bytes], sink), "w", compression=zipfile.ZIP_STORED) as zf:
        for doc in docs:
            zf.writestr(pdf_name(doc), archive.get(doc.current_sha256))
            yield from sink.drain()
    yield from sink.drain()


class _Chunks:
    """A write-only file object that hands what was written to a generator."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self._parts = self._parts, []
        yield from parts
