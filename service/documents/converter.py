"""The process's LibreOffice pool: started on first use, stopped at exit (the pool reaps itself)."""

from __future__ import annotations

import threading
from typing import Protocol

from doc_templates.convert import ConversionResult, ConverterPool
from doc_templates.fonts import libreoffice_env
from service.config import get_settings


class Converter(Protocol):
    """DOCX → PDF; the LibreOffice pool in production, the same pool in tests."""

    @property
    def parallelism(self) -> int:
        """How many conversions can run at once."""
        ...

    def convert(self, docx: bytes, name: str) -> bytes: ...

    def convert_many(self, items: list[tuple[str, bytes]]) -> list[ConversionResult]: ...


class PoolConverter:
    def __init__(self, pool: ConverterPool) -> None:
        self.pool = pool

    @property
    def parallelism(self) -> int:
        return self.pool.size

    def convert(self, docx: bytes, name: str) -> bytes:
        return self.pool.convert(docx, name)

    def convert_many(self, items: list[tuple[str, bytes]]) -> list[ConversionResult]:
        return list(self.pool.convert_many(items))


_lock = threading.Lock()
_pool: ConverterPool | None = None


def shared_converter() -> PoolConverter:
    """One pool per process, sized by XIBU_CONVERTERS (0: one instance per core)."""
    global _pool
    with _lock:
        if _pool is None:
            size = get_settings().converters or None
            _pool = ConverterPool(size=size, env=libreoffice_env())
            _pool.start()
        return PoolConverter(_pool)


def close_shared_converter() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None
