"""The visible signature stamps, in Chinese: a party's boxed stamp (role, signer, signing time)
and an office's round red seal (name along the ring, star, role, time).

Cost and correctness both come from the font. Glyphs come from a small pre-built face first —
GB2312 level 1 (~4.5k glyphs), then all of GB2312 — and only when a name has a character
outside both (堃, 㛃, 𠮷 …) from a subset for exactly that text cut from the full face, cached
by character set. A character no installed face has raises :class:`StampGlyphMissing`: a name
is never drawn with a box.

pyHanko's own text stamp parses, subsets and compiles the face it is given on every stamp
(~390 ms with the full face, ~50 ms with a pre-subset one, and ~60 ms more to cut a subset
for a name never seen before). We draw the stamp ourselves instead (:class:`BoxStampStyle`,
:class:`SealStampStyle`) with a Type 3 font holding exactly the stamp's characters
(:class:`FontKit`): each glyph's outline is turned into PDF path operators once per process
and reused, so a stamp costs about a millisecond, a new name included, and the file still
carries a ToUnicode map for search and copy.

Faces come from ``.ttc`` collections; the pre-built faces are written under a cache directory
by :func:`prepare_fonts` (run it at ``xibu init`` or at worker start; otherwise the first stamp
pays ~20 s).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools import subset
from fontTools.pens.basePen import BasePen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTCollection, TTFont
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

from .errors import SigningError, StampGlyphMissing

__all__ = [
    "DEFAULT_FACES",
    "BoxStampStyle",
    "FaceRef",
    "FontKit",
    "SealStampStyle",
    "StampFonts",
    "StampSpec",
    "prepare_fonts",
]

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
    seal: bool = False
    """Draw an office's round red seal (documents it issues) instead of the boxed text stamp."""

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
_KIT_CACHE = 256
_FACE_CACHE = 16
_KIT_ALWAYS = "0123456789-:：签署人时间"
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


class _PathPen(BasePen):
    """Glyph outline → PDF path operators (font units)."""

    def __init__(self, glyph_set: object) -> None:
        super().__init__(glyph_set)
        self.ops: list[bytes] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(b"%.0f %.0f m" % pt)

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(b"%.0f %.0f l" % pt)

    def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
        self.ops.append(b"%.0f %.0f %.0f %.0f %.0f %.0f c" % (*p1, *p2, *p3))

    def _closePath(self) -> None:
        self.ops.append(b"h")


class _Face:
    """A parsed face and the glyphs drawn from it so far: char → (compressed glyph procedure,
    advance in em, bounding box in font units)."""

    def __init__(self, data: bytes) -> None:
        self.data = data  # keeps id(data) valid as the cache key
        self.font = TTFont(io.BytesIO(data), lazy=True)
        self.cmap = self.font.getBestCmap()
        self.glyphs = self.font.getGlyphSet()
        self.upm = self.font["head"].unitsPerEm
        self.drawn: dict[str, tuple[bytes, float, tuple[int, int, int, int]]] = {}
        self.lock = threading.Lock()

    def glyph(self, ch: str) -> tuple[bytes, float, tuple[int, int, int, int]]:
        with self.lock:
            hit = self.drawn.get(ch)
            if hit is not None:
                return hit
            name = self.cmap.get(ord(ch))
            if name is None:
                raise StampGlyphMissing(ch)
            glyph = self.glyphs[name]
            bounds = BoundsPen(self.glyphs)
            glyph.draw(bounds)
            pen = _PathPen(self.glyphs)
            glyph.draw(pen)
            x0, y0, x1, y1 = (round(v) for v in (bounds.bounds or (0, 0, 0, 0)))
            proc = b"%d 0 %d %d %d %d d1 " % (glyph.width, x0, y0, x1, y1) + b" ".join(pen.ops)
            proc += b" f" if pen.ops else b""
            out = (zlib.compress(proc), glyph.width / self.upm, (x0, y0, x1, y1))
            self.drawn[ch] = out
            return out


class FontKit:
    """The stamp font for one character set: a Type 3 font holding exactly those glyphs.

    pyHanko's text stamps parse, subset and compile (CFF) the face on every stamp, and cutting
    a face to a new name's characters costs ~60 ms with fontTools: most of a stamp. A Type 3
    font needs neither: each glyph is a small content stream of the outline, drawn from the face
    once per character and cached, so a name never seen before costs a few outlines. The font
    carries the stamp's characters only, with a ToUnicode map (rare characters outside the BMP
    included), so the text can be searched and copied; glyphs take the current fill colour.

    :param face: the face that has every character of ``chars`` (:meth:`StampFonts.font_for`).
    :param chars: the characters this kit can draw (at most 255).
    """

    def __init__(self, face: _Face, chars: str) -> None:
        if len(chars) > 255:
            raise SigningError("签章文字过长。", f"{len(chars)} distinct characters")
        self.chars = chars
        self.codes: dict[str, bytes] = {}
        self.advance: dict[str, float] = {}
        self._procs: list[bytes] = []
        widths: list[int] = []
        bbox = [0, 0, 0, 0]
        for code, ch in enumerate(chars, start=1):
            proc, advance, (x0, y0, x1, y1) = face.glyph(ch)
            self.codes[ch] = b"%02x" % code
            self.advance[ch] = advance
            self._procs.append(proc)
            widths.append(round(advance * 1000))
            bbox = [min(bbox[0], x0), min(bbox[1], y0), max(bbox[2], x1), max(bbox[3], y1)]
        self._widths = widths
        self._bbox = bbox
        self._upm = face.upm
        self._to_unicode = zlib.compress(_to_unicode(chars))

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` at ``size`` points."""
        return sum(self.advance[c] for c in text) * size

    def show(self, text: str) -> bytes:
        """A ``Tj`` operand for ``text``."""
        return b"<" + b"".join(self.codes[c] for c in text) + b">"

    def embed(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        """Write the font's objects into ``writer``; returns the reference for a /Font resource."""
        flate = {pdf_name("/Filter"): pdf_name("/FlateDecode")}
        procs = generic.DictionaryObject()
        names = generic.ArrayObject([generic.NumberObject(1)])
        for i, proc in enumerate(self._procs, start=1):
            name = pdf_name(f"/g{i}")
            procs[name] = writer.add_object(generic.StreamObject(dict(flate), encoded_data=proc))
            names.append(name)
        scale = generic.FloatObject(1 / self._upm)
        zero = generic.NumberObject(0)
        font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type3"),
                pdf_name("/FontBBox"): generic.ArrayObject(generic.NumberObject(v) for v in self._bbox),
                pdf_name("/FontMatrix"): generic.ArrayObject([scale, zero, zero, scale, zero, zero]),
                pdf_name("/CharProcs"): procs,
                pdf_name("/Encoding"): generic.DictionaryObject(
                    {pdf_name("/Type"): pdf_name("/Encoding"), pdf_name("/Differences"): names}
                ),
                pdf_name("/FirstChar"): generic.NumberObject(1),
                pdf_name("/LastChar"): generic.NumberObject(len(self._procs)),
                pdf_name("/Widths"): generic.ArrayObject(
                    generic.NumberObject(round(w * self._upm / 1000)) for w in self._widths
                ),
                pdf_name("/Resources"): generic.DictionaryObject(),
                pdf_name("/ToUnicode"): writer.add_object(
                    generic.StreamObject(dict(flate), encoded_data=self._to_unicode)
                ),
            }
        )
        return writer.add_object(font)


def _to_unicode(chars: str) -> bytes:
    """A ToUnicode CMap for one-byte codes 1..n → ``chars`` (UTF-16BE, surrogate pairs allowed)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Xibu-Stamp-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <FF>",
        "endcodespacerange",
    ]
    pairs = [f"<{code:02X}> <{ch.encode('utf-16-be').hex().upper()}>" for code, ch in enumerate(chars, 1)]
    for i in range(0, len(pairs), 100):
        chunk = pairs[i : i + 100]
        lines += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _circle(r: float, cx: float, cy: float) -> bytes:
    k = 0.5523 * r
    return (
        b"%.2f %.2f m %.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c "
        b"%.2f %.2f %.2f %.2f %.2f %.2f c %.2f %.2f %.2f %.2f %.2f %.2f c h"
        % (
            cx + r, cy,
            cx + r, cy + k, cx + k, cy + r, cx, cy + r,
            cx - k, cy + r, cx - r, cy + k, cx - r, cy,
            cx - r, cy - k, cx - k, cy - r, cx, cy - r,
            cx + k, cy - r, cx + r, cy - k, cx + r, cy,
        )
    )  # fmt: skip


def _star(r: float, cx: float, cy: float) -> bytes:
    points = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.382
        a = math.pi / 2 + i * math.pi / 5
        points.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    path = [b"%.2f %.2f m" % points[0]] + [b"%.2f %.2f l" % p for p in points[1:]]
    return b" ".join(path) + b" h f"


def _centred(kit: FontKit, text: str, size: float, cx: float, baseline: float, scale: float = 1.0) -> bytes:
    x = cx - kit.width(text, size) * scale / 2
    return b"BT /F1 %.2f Tf %.0f Tz %.2f %.2f Td %s Tj ET" % (size, scale * 100, x, baseline, kit.show(text))


_RED = b"0.85 0.08 0.08"


@dataclass(frozen=True)
class SealStampStyle(BaseStampStyle):
    """An office's seal: a red ring, its name along the upper arc, a star, the role and the time.

    Drawn with the *multiply* blend mode at 90 % opacity, like stamp ink: printed text under the
    seal (the issuer's name and date it is meant to cover) stays black and readable.
    """

    kit: FontKit | None = None
    spec: StampSpec | None = None
    border_width: int = 0

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict
    ) -> BaseStamp:
        assert self.kit is not None and self.spec is not None
        kit, spec = self.kit, self.spec
        w, h = float(box.width), float(box.height)
        d = min(w, h)
        cx, cy = w / 2, h / 2
        lw = max(1.2, d * 0.03)
        r = d / 2 - lw / 2 - 0.5
        ops = [b"/Seal gs", _RED + b" RG", _RED + b" rg", b"%.2f w" % lw, _circle(r, cx, cy) + b" S"]
        name = spec.signer_name.strip()
        size = d * 0.12
        for _ in range(2):  # fit the name into at most ~250 degrees of arc
            rb = r - lw / 2 - 1.5 - size * 0.88
            span = sum(kit.advance[c] * 0.85 * size + size * 0.12 for c in name) / rb
            if span <= math.radians(250):
                break
            size *= math.radians(250) / span
        step = span / max(len(name), 1)
        for i, ch in enumerate(name):
            phi = math.pi / 2 + span / 2 - (i + 0.5) * step
            a = phi - math.pi / 2
            x, y = cx + rb * math.cos(phi), cy + rb * math.sin(phi)
            c, s_ = math.cos(a), math.sin(a)
            ops.append(
                b"q %.4f %.4f %.4f %.4f %.2f %.2f cm BT /F1 %.2f Tf 85 Tz %.2f 0 Td %s Tj ET Q"
                % (c, s_, -s_, c, x, y, size, -kit.advance[ch] * size * 0.85 / 2, kit.show(ch))
            )
        ops.append(_star(d * 0.13, cx, cy + d * 0.03))
        role, _name, _when = spec.lines()
        ops.append(
            _centred(kit, role, min(d * 0.085, (d * 0.6) / max(kit.width(role, 1), 0.1)), cx, cy - d * 0.2)
        )
        when = (spec.signed_at or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
        stamp_time = f"{when:%Y-%m-%d %H:%M:%S}"
        ops.append(_centred(kit, stamp_time, d * 0.062, cx, cy - d * 0.31))
        return _KitStamp(writer, self, box, kit, b" ".join(ops), seal=True)


@dataclass(frozen=True)
class BoxStampStyle(BaseStampStyle):
    """A party's stamp: role, signer and signing time as three lines in a thin black frame."""

    kit: FontKit | None = None
    lines: tuple[str, ...] = ()
    font_size: float = 9
    border_width: int = 1

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict
    ) -> BaseStamp:
        assert self.kit is not None
        kit = self.kit
        w, h = float(box.width), float(box.height)
        widest = max(kit.width(line, 1) for line in self.lines)
        size = min(self.font_size, (w - 8) / max(widest, 0.1), (h - 4) / (len(self.lines) * 1.45))
        leading = size * 1.45
        top = h / 2 + leading * len(self.lines) / 2
        ops = [b"0 g"]
        for i, line in enumerate(self.lines):
            ops.append(
                b"BT /F1 %.2f Tf 4 %.2f Td %s Tj ET" % (size, top - size * 0.95 - i * leading, kit.show(line))
            )
        return _KitStamp(writer, self, box, kit, b" ".join(ops), seal=False)


class _KitStamp(BaseStamp):
    def __init__(
        self,
        writer: BasePdfFileWriter,
        style: BaseStampStyle,
        box: layout.BoxConstraints,
        kit: FontKit,
        ops: bytes,
        *,
        seal: bool,
    ) -> None:
        super().__init__(writer=writer, style=style, box=box)
        self._kit, self._ops, self._seal = kit, ops, seal

    def _render_inner_content(self) -> list[bytes]:
        assert self.writer is not None
        self.set_resource(ResourceType.FONT, pdf_name("/F1"), self._kit.embed(self.writer))
        if self._seal:
            self.set_resource(
                ResourceType.EXT_G_STATE,
                pdf_name("/Seal"),
                generic.DictionaryObject(
                    {
                        pdf_name("/BM"): pdf_name("/Multiply"),
                        pdf_name("/ca"): generic.FloatObject(0.9),
                        pdf_name("/CA"): generic.FloatObject(0.9),
                    }
                ),
            )
        return [self._ops]


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
    _kits: OrderedDict[str, FontKit] = field(default_factory=OrderedDict, repr=False)
    _faces: dict[int, _Face] = field(default_factory=dict, repr=False)
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

        For pyHanko's own ``TextStampStyle`` (the benchmark's raw-pyHanko baseline draws with it):
        pyHanko re-subsets the face it is given on every stamp, so a face of a few dozen glyphs
        is the cheapest input it can get. Our stamps use :meth:`kit` instead.
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

    def _face(self, data: bytes) -> _Face:
        """The parsed face for ``data`` (one of the tier faces or a rare-character subset)."""
        with self._lock:
            face = self._faces.get(id(data))
            if face is not None and face.data is data:
                return face
        face = _Face(data)
        with self._lock:
            self._faces[id(data)] = face
            while len(self._faces) > _FACE_CACHE:
                self._faces.pop(next(iter(self._faces)))
        return face

    def kit(self, text: str) -> FontKit:
        """The compiled stamp font for ``text``'s characters plus digits and ``-: `` (cached).

        Digits and separators are always in, so one office's stamps share one kit whatever the
        signing time.
        """
        chars = "".join(sorted({c for c in text if not c.isspace()} | set(_KIT_ALWAYS) | {" "}))
        with self._lock:
            hit = self._kits.get(chars)
            if hit is not None:
                self._kits.move_to_end(chars)
                return hit
        built = FontKit(self._face(self.font_for(chars)), chars)
        with self._lock:
            self._kits[chars] = built
            while len(self._kits) > _KIT_CACHE:
                self._kits.popitem(last=False)
        return built

    def style(self, spec: StampSpec, *, font_size: float = 9) -> tuple[BaseStampStyle, dict[str, str]]:
        """The pyHanko stamp style for ``spec`` (no text parameters: the text is in the style).

        :raises StampGlyphMissing: a character of the text is in no installed face.
        """
        role, name, when = spec.lines()
        if spec.seal:
            return SealStampStyle(kit=self.kit(role + spec.signer_name), spec=spec), {}
        return BoxStampStyle(
            kit=self.kit(role + name + when), lines=(role, name, when), font_size=font_size
        ), {}


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
