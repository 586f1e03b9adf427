"""One-shot LibreOffice conversion for these tests (the pool in doc_templates/convert.py is tested apart).

Uses its own profile directory so it never clashes with a running pool, and the project's fontconfig
file, exactly as production conversion must.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from doc_templates.fonts import libreoffice_env

PROFILE = "file:///tmp/lo-profile-C"


def convert_many(docs: dict[str, bytes]) -> dict[str, bytes]:
    """name → DOCX bytes in, name → PDF bytes out; a file LibreOffice silently skipped raises."""
    with tempfile.TemporaryDirectory(prefix="xibu-c-") as tmp:
        paths = []
        for name, data in docs.items():
            path = Path(tmp) / f"{name}.docx"
            path.write_bytes(data)
            paths.append(str(path))
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={PROFILE}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                *paths,
            ],
            env=libreoffice_env(),
            capture_output=True,
            check=True,
            timeout=300,
        )
        return {name: (Path(tmp) / f"{name}.pdf").read_bytes() for name in docs}


def convert(docx: bytes) -> bytes:
    return convert_many({"doc": docx})["doc"]
