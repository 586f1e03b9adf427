"""A PDF's pages as PNG images (poppler's ``pdftoppm``), so a signer on a phone reads the document
without a PDF viewer. Rendered once per PDF revision and kept in the cache folder by SHA-256.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from service.config import get_settings
from service.errors import AppError

RESOLUTION = 100  # dpi: an A4 page 827 px wide, sharp on a phone, a few hundred kB per page
_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_guard = threading.Lock()


def _folder(sha256: str) -> Path:
    return get_settings().cache_path / "pages" / sha256


def _lock(sha256: str) -> threading.Lock:
    with _guard:
        return _locks[sha256]


def page_images(sha256: str, load_pdf: Callable[[], bytes]) -> list[Path]:
    """The page images of this revision, rendering them on first use (one render at a time per PDF)."""
    folder = _folder(sha256)
    with _lock(sha256):
        if not (folder / "complete").exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".render-") as tmp:
                work = Path(tmp)
                (work / "in.pdf").write_bytes(load_pdf())
                try:
                    subprocess.run(
                        ["pdftoppm", "-r", str(RESOLUTION), "-png", str(work / "in.pdf"), str(work / "page")],
                        check=True,
                        capture_output=True,
                        timeout=120,
                    )
                except (OSError, subprocess.SubprocessError):
                    raise AppError(
                        "无法生成文件预览，请下载 PDF 查看", status=500, code="preview_failed"
                    ) from None
                (work / "in.pdf").unlink()
                (work / "complete").touch()
                shutil.rmtree(folder, ignore_errors=True)
                work.rename(folder)
                work.mkdir()  # TemporaryDirectory cleans up the (now empty) name it made
    return sorted(folder.glob("page-*.png"))
