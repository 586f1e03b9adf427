"""Find each party's signature anchor in a rendered PDF, so signing places fields without coordinates in code.

Templates carry, in every signature block, the text ``XIBU-SIG:<party>`` in 4 pt white (invisible in
print, present in the text layer). The anchor marks the *centre* of the space left for that party's
stamp or signature: a layout change in a template moves the field with it.

Coordinates are PDF user space (points, origin bottom-left), what pyHanko's ``SigFieldSpec.box`` takes.
Poppler's ``pdftotext -bbox`` is used because it returns whole words with their boxes; the tokens
have no spaces, so each is one word whatever runs LibreOffice split it into.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from doc_templates.kinds import ANCHOR_PREFIX, Kind

__all__ = [
    "AnchorBox",
    "AnchorsMissing",
    "anchors_in",
    "find_anchors",
    "page_words",
    "remember_anchors",
    "require_anchors",
]

_XHTML = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True)
class AnchorBox:
    page_index: int  # 0-based
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def field_box(self, width: float, height: float) -> tuple[int, int, int, int]:
        """A ``width`` × ``height`` field centred on the anchor, as pyHanko's (x1, y1, x2, y2)."""
        cx, cy = self.center
        return (round(cx - width / 2), round(cy - height / 2), round(cx + width / 2), round(cy + height / 2))


class AnchorsMissing(ValueError):
    def __init__(self, kind: str, parties: list[str]) -> None:
        super().__init__(f"{kind}: no signature anchor for {', '.join(parties)}")
        self.parties = parties


Word = tuple[str, AnchorBox]
"""A word of a page's text layer and its box."""


def page_words(pdf_bytes: bytes) -> list[list[Word]]:
    """Every page's words with their boxes, in reading order, from one ``pdftotext -bbox`` call."""
    with tempfile.TemporaryDirectory(prefix="xibu-anchors-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf_bytes)
        html = subprocess.run(
            ["pdftotext", "-bbox", "-q", str(src), "-"], capture_output=True, check=True
        ).stdout
    pages: list[list[Word]] = []
    for index, page in enumerate(ET.fromstring(html).iter(f"{_XHTML}page")):
        height = float(page.attrib["height"])
        words: list[Word] = []
        for word in page.iter(f"{_XHTML}word"):
            # pdftotext measures from the top of the page; PDF user space from the bottom.
            box = AnchorBox(
                page_index=index,
                x0=float(word.attrib["xMin"]),
                y0=height - float(word.attrib["yMax"]),
                x1=float(word.attrib["xMax"]),
                y1=height - float(word.attrib["yMin"]),
            )
            words.append(((word.text or "").strip(), box))
        pages.append(words)
    return pages


def anchors_in(pages: Sequence[Sequence[Word]], first_page: int = 0) -> dict[str, AnchorBox]:
    """Party → anchor box among ``pages``, page numbers counted from ``first_page``; first place wins."""
    found: dict[str, AnchorBox] = {}
    for words in pages:
        for text, box in words:
            party = text[len(ANCHOR_PREFIX) :] if text.startswith(ANCHOR_PREFIX) else None
            if party and party not in found:
                found[party] = replace(box, page_index=box.page_index - first_page)
    return found


def remember_anchors(pdf_bytes: bytes, anchors: dict[str, AnchorBox]) -> None:
    """Record anchors already measured for these exact bytes (a batch split measures every part at once).

    Sealing a batch notice then costs no ``pdftotext`` run of its own: ~10 ms of CPU and a fork of a
    large worker process per document. Keyed by SHA-256, so only the identical file can hit.
    """
    _store(hashlib.sha256(pdf_bytes).digest(), anchors)


def _store(key: bytes, anchors: dict[str, AnchorBox]) -> None:
    with _known_lock:
        _known[key] = dict(anchors)
        while len(_known) > _KNOWN_SIZE:
            _known.pop(next(iter(_known)))


def find_anchors(pdf_bytes: bytes) -> dict[str, AnchorBox]:
    """Party → anchor box for every anchor in the PDF; a party anchored twice keeps its first place.

    The answer depends only on the bytes, and each party's signature asks again for the same
    rendered PDF, so it is kept per SHA-256 (a batch split records its parts' anchors up front).
    """
    key = hashlib.sha256(pdf_bytes).digest()
    with _known_lock:
        known = _known.get(key)
    if known is not None:
        return dict(known)
    found = anchors_in(page_words(pdf_bytes))
    _store(key, found)
    return dict(found)


_KNOWN_SIZE = 4096
_known: dict[bytes, dict[str, AnchorBox]] = {}
_known_lock = threading.Lock()


def require_anchors(kind: Kind, pdf_bytes: bytes) -> dict[str, AnchorBox]:
    """The anchors of ``kind``'s parties, in signing order; raises if any party has none."""
    found = find_anchors(pdf_bytes)
    lacking = [p for p in kind.parties if p not in found]
    if lacking:
        raise AnchorsMissing(kind.code, lacking)
    return {p: found[p] for p in kind.parties}
