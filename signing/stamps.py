"""The visible signature stamp: party role, signer name and signing time, in Chinese.

Cost and correctness both come from the font. pyHanko parses and subsets whatever font it is
given on every stamp, so the full 16 MB Noto CJK face costs ~390 ms a stamp (field notes).
We therefore hand it a small pre-built face first — GB2312 level 1 (~4.5k glyphs), then all
of GB2312 — and only when a name has a character outside both (堃, 㛃, 𠮷 …) do we cut a
subset for exactly that text from the full face, cached by character set. A character no
installed face has raises :class:`StampGlyphMissing`: a name is never drawn with a box.

Faces come from ``.ttc`` collections, which pyHanko does not accept; the pre-built faces
are written under a cache directory by :func:`prepare_fonts` (run it at ``xibu init`` or
at worker start; otherwise the first stamp pays ~20 s).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from pyhanko.pdf_utils.font.api import FontEngineFactory
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStampStyle

from .errors import SigningError, StampGlyphMissing

__all__ = ["DEFAULT_FACES", "FaceRef", "StampFonts", "StampSpec", "prepare_fonts"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_VERSION = "v1"


@dataclass(frozen=True)
class FaceRef:
    """One face inside a font file (a ``.ttc`` collection or a plain ``.otf``/``.ttf``)."""

    path: str
    """Font file path."""
    family: str
    """Family name to pick inside a collection, e.g. ``Noto Sans CJK SC``."""


DEFAULT_FACES: tuple[FaceRef, ...] = (
    FaceRef("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    FaceRef("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    FaceRef("/usr/share/fonts/truetype/arphic/ukai.ttc", "AR PL UKai CN"),
)


@dataclass(frozen=True)
class StampSpec:
    """What the visible stamp says."""

    role: str
    """Party role, e.g. ``甲方（服务县项目办）``."""
    signer_name: str
    """Person or organization name, rare characters included."""
    signed_at: datetime | None = None
    """Shown in Asia/Shanghai; defaults to now. The authoritative time is the TSA token."""

    def lines(self) -> tuple[str, str, str]:
        """The three lines of stamp text."""
        when = (self.signed_at or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
        return (self.role, f"签署人：{self.signer_name}", f"签署时间：{when:%Y-%m-%d %H:%M:%S}")


def _gb2312(rows: range) -> str:
    out = []
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(out)


_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
_STAMP_ALWAYS = "："  # with ASCII: stamps that differ only in their time share one face
_SMALL_CACHE = 512
_TIERS = {
    "gb2312-l1": _ASCII + _gb2312(range(0xA1, 0xAA)) + _gb2312(range(0xB0, 0xD8)),
    "gb2312": _ASCII + _gb2312(range(0xA1, 0xAA)) + _gb2312(range(0xB0, 0xF8)),
}


def _face_index(ref: FaceRef) -> int:
    if not ref.path.lower().endswith((".ttc", ".otc")):
        return -1
    coll = TTCollection(ref.path, lazy=True)
    for i, font in enumerate(coll.fonts):
        if font["name"].getDebugName(1) == ref.family or font["name"].getDebugName(4) == ref.family:
            return i
    raise SigningError("找不到签章所需的中文字体。", f"{ref.family} not in {ref.path}")


def _open_face(ref: FaceRef) -> TTFont:
    idx = _face_index(ref)
    return TTFont(ref.path, fontNumber=idx, lazy=True) if idx >= 0 else TTFont(ref.path, lazy=True)


def _subset_bytes(ref: FaceRef, text: str) -> bytes:
    """A face cut down to ``text``'s characters, without layout tables (we set plain lines)."""
    return _subset_font(_open_face(ref), text)


def _subset_font(font: TTFont, text: str) -> bytes:
    opts = subset.Options()
    opts.layout_features = []
    opts.layout_closure = False
    opts.hinting = False
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    opts.drop_tables += ["GSUB", "GPOS", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    sub = subset.Subsetter(opts)
    sub.populate(text=text)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


class _BytesFontFactory(FontEngineFactory):
    """pyHanko's ``GlyphAccumulatorFactory`` wants a path; ours come from memory."""

    def __init__(self, data: bytes, font_size: int) -> None:
        self.data, self.font_size = data, font_size

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(
            writer=writer, font_handle=io.BytesIO(self.data), font_size=self.font_size, obj_stream=obj_stream
        )


@dataclass
class StampFonts:
    """Chooses and caches the smallest face that draws a stamp's text completely.

    :param cache_dir: where pre-built faces and rare-character subsets are kept.
    :param faces: candidate faces in order of preference.
    """

    cache_dir: Path
    faces: tuple[FaceRef, ...] = DEFAULT_FACES
    _tiers: dict[str, tuple[frozenset[str], bytes]] = field(default_factory=dict, repr=False)
    _cmaps: dict[FaceRef, frozenset[str]] = field(default_factory=dict, repr=False)
    _rare: dict[str, bytes] = field(default_factory=dict, repr=False)
    _small: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.cache_dir = Path(self.cache_dir)
        self.faces = tuple(f for f in self.faces if os.path.exists(f.path))
        if not self.faces:
            raise SigningError("系统中没有可用的中文字体，无法生成可见签章。", "no CJK face installed")

    def _tier(self, name: str) -> tuple[frozenset[str], bytes]:
        with self._lock:
            if name not in self._tiers:
                ref = self.faces[0]
                key = hashlib.sha256(f"{_VERSION}|{ref}|{os.path.getmtime(ref.path)}".encode()).hexdigest()[
                    :16
                ]
                path = self.cache_dir / f"stamp-{name}-{key}.otf"
                if not path.exists():
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(_subset_bytes(ref, _TIERS[name]))
                    os.replace(tmp, path)
                data = path.read_bytes()
                cmap = frozenset(chr(c) for c in TTFont(io.BytesIO(data), lazy=True).getBestCmap())
                self._tiers[name] = (cmap, data)
            return self._tiers[name]

    def _cmap(self, ref: FaceRef) -> frozenset[str]:
        with self._lock:
            if ref not in self._cmaps:
                self._cmaps[ref] = frozenset(chr(c) for c in _open_face(ref).getBestCmap())
            return self._cmaps[ref]

    def font_for(self, text: str) -> bytes:
        """Font bytes that contain a glyph for every character of ``text``.

        :raises StampGlyphMissing: no candidate face covers every character.
        """
        needed = frozenset(c for c in text if not c.isspace())
        for name in _TIERS:
            cmap, data = self._tier(name)
            if needed <= cmap:
                return data
        chars = "".join(sorted(needed | set(_ASCII)))
        key = hashlib.sha256(chars.encode()).hexdigest()[:24]
        with self._lock:
            if key in self._rare:
                return self._rare[key]
        for ref in self.faces:
            if needed <= self._cmap(ref):
                path = self.cache_dir / f"stamp-rare-{key}.otf"
                if path.exists():
                    data = path.read_bytes()
                else:
                    data = _subset_bytes(ref, chars)
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    tmp.write_bytes(data)
                    os.replace(tmp, path)
                with self._lock:
                    self._rare[key] = data
                return data
        covered: set[str] = set()
        for ref in self.faces:
            covered |= self._cmap(ref)
        missing = "".join(sorted(needed - covered)) or "".join(sorted(needed - self._cmap(self.faces[0])))
        raise StampGlyphMissing(missing)

    def stamp_font(self, text: str) -> bytes:
        """A face holding just ``text``'s characters (and ASCII), cached by character set.

        pyHanko parses and re-subsets the face it is given on every stamp; handing it a face of a
        few dozen glyphs instead of thousands makes that cheap. Digits are always included, so
        one office's stamps share one face whatever the signing time.
        """
        chars = "".join(sorted({c for c in text if not c.isspace()} | set(_ASCII) | set(_STAMP_ALWAYS)))
        with self._lock:
            cached = self._small.get(chars)
        if cached is not None:
            return cached
        data = _subset_font(TTFont(io.BytesIO(self.font_for(text)), lazy=True), chars)
        with self._lock:
            if len(self._small) >= _SMALL_CACHE:
                self._small.pop(next(iter(self._small)))
            self._small[chars] = data
        return data

    def style(self, spec: StampSpec, *, font_size: int = 9) -> tuple[TextStampStyle, dict[str, str]]:
        """The pyHanko stamp style and text parameters for ``spec``."""
        role, name, when = spec.lines()
        data = self.stamp_font(role + name + when)
        style = TextStampStyle(
            stamp_text="%(role)s\n%(name)s\n%(when)s",
            text_box_style=TextBoxStyle(font=_BytesFontFactory(data, font_size), leading=font_size + 4),
            border_width=1,
            background=None,
        )
        return style, {"role": role, "name": name, "when": when}


def prepare_fonts(
    cache_dir: str | os.PathLike[str], faces: tuple[FaceRef, ...] = DEFAULT_FACES
) -> StampFonts:
    """Build the pre-subset stamp faces now, so no signing request waits for them.

    :param cache_dir: a writable directory outside the repository (e.g. ``$XIBU_DATA_DIR/fonts``).
    """
    fonts = StampFonts(Path(cache_dir), faces)
    for name in _TIERS:
        fonts._tier(name)
    return fonts
