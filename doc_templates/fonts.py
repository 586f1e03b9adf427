"""Fonts: the Word font names our templates use, the free faces that stand in for them, and coverage.

LibreOffice finds fonts through fontconfig; ``fonts/fonts.conf`` (shipped here) maps 方正小标宋简体,
仿宋_GB2312, 黑体, 楷体_GB2312 and 宋体 to installed faces. Any process that converts DOCX to PDF
must run with :func:`libreoffice_env`, or the mapping silently does not apply (Chinese then comes out
in one sans face, bold dropped, and ``pdftotext`` still looks right: the failure is only visible).

A character that none of the mapped faces has would be drawn as an empty box in the PDF with no
error at all; :func:`missing_glyphs` lets rendering refuse such a record instead.
"""

from __future__ import annotations

import os
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont

__all__ = [
    "FONTCONFIG_FILE",
    "FONT_MAP",
    "FontsUnavailable",
    "covered_faces",
    "libreoffice_env",
    "missing_glyphs",
]

FONTCONFIG_FILE = Path(__file__).resolve().parent / "fonts" / "fonts.conf"

# Word name → faces in the order fontconfig tries them (keep in step with fonts.conf).
_SERIF = ("Noto Serif CJK SC", "Noto Sans CJK SC")
_SANS = ("Noto Sans CJK SC",)
_KAI = ("AR PL UKai CN", "Noto Serif CJK SC", "Noto Sans CJK SC")
FONT_MAP: Mapping[str, tuple[str, ...]] = {
    "宋体": _SERIF,
    "仿宋_GB2312": _SERIF,
    "方正小标宋简体": _SERIF,
    "Times New Roman": _SERIF,
    "黑体": _SANS,
    "楷体_GB2312": _KAI,
}


class FontsUnavailable(RuntimeError):
    """A face the mapping relies on is not installed (e.g. fonts-noto-cjk, fonts-arphic-ukai)."""


def libreoffice_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a LibreOffice process: ``base`` (default: this process's) plus our fontconfig file."""
    env = dict(os.environ if base is None else base)
    env["FONTCONFIG_FILE"] = str(FONTCONFIG_FILE)
    return env


@lru_cache
def _face_file(family: str) -> tuple[str, int]:
    """(file, index in collection) of an installed face, as fontconfig resolves it with our config."""
    out = subprocess.run(
        ["fc-match", "--format=%{family[0]}\t%{file}\t%{index}", family],
        capture_output=True,
        text=True,
        check=True,
        env=libreoffice_env(),
    ).stdout
    found, path, index = out.split("\t")
    if found != family:
        # fontconfig always answers something; an answer under another name means the face is missing.
        raise FontsUnavailable(f"font {family!r} is not installed (fontconfig offers {found!r})")
    return path, int(index or 0)


@lru_cache
def _cmap(family: str) -> frozenset[int]:
    path, index = _face_file(family)
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def covered_faces() -> tuple[str, ...]:
    """Every face the mapping may draw with, each once."""
    return tuple(dict.fromkeys(face for faces in FONT_MAP.values() for face in faces))


def _needs_glyph(char: str) -> bool:
    # Controls, line/paragraph breaks and format characters are never drawn.
    return not char.isspace() and unicodedata.category(char) not in {"Cc", "Cf"}


@lru_cache
def _covered() -> frozenset[int]:
    """Every code point some mapped face draws (~65,000): built once, it is checked per document."""
    return frozenset().union(*(_cmap(face) for face in covered_faces()))


def missing_glyphs(texts: str | Iterable[str]) -> list[str]:
    """Characters of ``texts`` that no mapped face can draw, in order of first appearance."""
    chars = texts if isinstance(texts, str) else "".join(texts)
    covered = _covered()
    return [c for c in dict.fromkeys(chars) if ord(c) not in covered and _needs_glyph(c)]
