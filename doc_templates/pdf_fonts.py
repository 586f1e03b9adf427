"""Re-subset the simple fonts LibreOffice embeds, so one person's PDF carries only their own glyphs.

LibreOffice 7.4 writes one font subset for the whole merged document. Cut per person as is, every
output would hold every other person's glyphs, and the ToUnicode map (or, for anyone holding the
Noto font, the ``cid<N>`` glyph names) would spell out their names. Each font is parsed once per
merged PDF (:class:`Type1Source`, :class:`TrueTypeSource`) and written out per person with only the
codes that person's pages show. Font kinds not seen in LibreOffice's output are refused, never
passed through.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence

from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._g_l_y_f import Glyph

__all__ = ["FontSubsetError", "TrueTypeSource", "Type1Source", "eexec_decrypt", "eexec_encrypt", "to_unicode"]

_EEXEC_KEY = 55665
# LibreOffice writes a zero 'modified' date; fontTools warns about it on every re-subset.
logging.getLogger("fontTools.ttLib.tables._h_e_a_d").setLevel(logging.ERROR)


class FontSubsetError(ValueError):
    """A font could not be re-subset safely: the split refuses rather than leak glyphs."""


def eexec_decrypt(data: bytes, r: int = _EEXEC_KEY) -> bytes:
    """Type 1 eexec decryption; the same cipher as fontTools', in a tighter loop (it runs per font)."""
    out = bytearray(len(data))
    for i, c in enumerate(data):
        out[i] = c ^ (r >> 8)
        r = ((c + r) * 52845 + 22719) & 0xFFFF
    return bytes(out)


def eexec_encrypt(data: bytes, r: int = _EEXEC_KEY) -> bytes:
    return _eexec_encrypt_from(data, r)[0]


def _eexec_encrypt_from(data: bytes, r: int) -> tuple[bytes, int]:
    """The cipher text of ``data`` from cipher state ``r``, and the state after it.

    The state is 16 bits and the output depends only on it and the plain text, so a piece of the
    font encrypted once from a given state can be reused by every subset that reaches that state.
    """
    out = bytearray(len(data))
    for i, p in enumerate(data):
        c = p ^ (r >> 8)
        out[i] = c
        r = ((c + r) * 52845 + 22719) & 0xFFFF
    return bytes(out), r


_ENC_ENTRY = re.compile(rb"dup (\d+) */([^\s/\[\]{}()<>]+) put\s*")
_CHARSTRINGS = re.compile(rb"/CharStrings (\d+) dict dup begin")
_WS = b" \t\r\n"


def _skip_ws(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in _WS:
        pos += 1
    return pos


def _token(data: bytes, pos: int) -> tuple[bytes, int]:
    end = pos
    while end < len(data) and data[end] not in _WS:
        end += 1
    return data[pos:end], end


class Type1Source:
    """A simple Type 1 font file (FontFile: cleartext + eexec part + zeros) split into pieces."""

    def __init__(self, data: bytes, length1: int, length2: int) -> None:
        clear = data[:length1]
        start = clear.find(b"/Encoding 256 array")
        end = clear.find(b"readonly def", start)
        if start < 0 or end < 0 or b"StandardEncoding" in clear[start:end]:
            raise FontSubsetError("Type 1 font without an explicit 256-entry /Encoding array")
        self.clear_head = clear[:start]
        self.clear_tail = clear[end:]
        body = clear[start:end]
        self.encoding: dict[int, bytes] = {int(m[1]): m[2] for m in _ENC_ENTRY.finditer(body)}
        plain = eexec_decrypt(data[length1 : length1 + length2])
        m = _CHARSTRINGS.search(plain)
        if m is None:
            raise FontSubsetError("Type 1 font: no /CharStrings dictionary in the eexec part")
        self.private_head = plain[: m.start()]
        self.glyphs: dict[bytes, bytes] = {}  # name → the whole "/name len RD <bin> ND" entry
        pos = m.end()
        while True:
            pos = _skip_ws(plain, pos)
            if plain.startswith(b"end", pos):
                break
            if plain[pos : pos + 1] != b"/":
                raise FontSubsetError(f"Type 1 font: unexpected byte in /CharStrings at {pos}")
            entry_start = pos
            name, pos = _token(plain, pos + 1)
            length, pos = _token(plain, _skip_ws(plain, pos))
            _rd, pos = _token(plain, _skip_ws(plain, pos))
            pos += 1 + int(length)  # one space, then exactly `length` binary bytes
            _nd, pos = _token(plain, _skip_ws(plain, pos))
            self.glyphs[name] = plain[entry_start:pos]
        self.private_tail = plain[pos:]
        self.trailer = data[length1 + length2 :]
        if b".notdef" not in self.glyphs:
            raise FontSubsetError("Type 1 font without .notdef")
        # (cipher state, piece) → (cipher text, next state); see subset().
        self._cipher: dict[tuple[int, bytes], tuple[bytes, int]] = {}

    def subset(
        self, codes: Iterable[int], popularity: Mapping[int, int] | None = None
    ) -> tuple[bytes, int, int, int]:
        """(font file, Length1, Length2, Length3) drawing only ``codes``.

        Re-encrypting the eexec part is most of a split's cost (a serial cipher, byte by byte in
        Python). So every subset of this font starts the same way: the private dictionary, then a
        /CharStrings dictionary declared at the source font's size (a capacity, not a count: fewer
        entries are fine), then its glyphs most-used first by ``popularity`` (code → how many
        outputs show it). Outputs of one batch share the template's glyphs, so they share a long
        prefix of cipher text, encrypted once; only each person's own glyphs are encrypted anew.
        """
        codes = sorted(set(codes))
        names = [self.encoding[c] for c in codes if c in self.encoding]
        missing = [n for n in names if n not in self.glyphs]
        if missing:
            raise FontSubsetError(f"Type 1 font: code maps to absent glyph {missing[0]!r}")
        enc = b"/Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\n"
        enc += b"".join(b"dup %d /%s put\n" % (c, self.encoding[c]) for c in codes if c in self.encoding)
        clear = self.clear_head + enc + self.clear_tail
        rank = popularity or {}
        first_code: dict[bytes, int] = {}
        for c in codes:
            if c in self.encoding:
                first_code.setdefault(self.encoding[c], c)
        ordered = sorted(
            (n for n in first_code if n != b".notdef"),
            key=lambda n: (-rank.get(first_code[n], 0), first_code[n]),
        )
        head = self.private_head + b"/CharStrings %d dict dup begin\n" % len(self.glyphs)
        pieces = [(b"\0head", head), (b"\0.notdef", self.glyphs[b".notdef"] + b"\n")]
        pieces += [(n, self.glyphs[n] + b"\n") for n in ordered]
        pieces.append((b"\0tail", self.private_tail))
        binary = self._encrypt(pieces)
        return clear + binary + self.trailer, len(clear), len(binary), len(self.trailer)

    def _encrypt(self, pieces: Sequence[tuple[bytes, bytes]]) -> bytes:
        """eexec over the concatenated pieces, reusing each (state, piece) encrypted before."""
        r = _EEXEC_KEY
        out: list[bytes] = []
        for key, plain in pieces:
            hit = self._cipher.get((r, key))
            if hit is None:
                hit = self._cipher[(r, key)] = _eexec_encrypt_from(plain, r)
            out.append(hit[0])
            r = hit[1]
        return b"".join(out)


class TrueTypeSource:
    """A simple TrueType subset as LibreOffice writes it: cmap (1,0) maps each code to a glyph."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        font = TTFont(io.BytesIO(data))
        tables = {t.platformID: t for t in font["cmap"].tables}
        cmap = tables.get(1) or tables.get(3)
        if cmap is None or "glyf" not in font or "CFF " in font:
            raise FontSubsetError("TrueType font without a (1,0)/(3,x) cmap and glyf outlines")
        self.code_glyph: dict[int, str] = {code & 0xFF: name for code, name in cmap.cmap.items()}

    def subset(self, codes: Iterable[int]) -> bytes:
        """The font with every glyph outside ``codes`` emptied and its cmap entry removed.

        Glyph ids stay where they are (the PDF's codes reach glyphs through the cmap), and the
        post table drops glyph names.
        """
        # Kept glyphs stay as their original bytes: indexing ``glyf[name]`` would decompile each one
        # and saving would then recompile it (two thirds of a batch split's CPU), and recalculating
        # bounding boxes would decompile them all. The original font's bbox still bounds the subset.
        font = TTFont(io.BytesIO(self.data), recalcBBoxes=False, recalcTimestamp=False)
        keep = {".notdef", *(self.code_glyph[c] for c in codes if c in self.code_glyph)}
        glyf = font["glyf"]
        for name in list(keep):
            if name in glyf.glyphs and _is_composite(glyf.glyphs[name]):
                keep.update(glyf[name].getComponentNames(glyf))
        for name in font.getGlyphOrder():
            if name not in keep:
                glyf[name] = Glyph()
        for table in font["cmap"].tables:
            table.cmap = {c: g for c, g in table.cmap.items() if g in keep and g != ".notdef"}
        font["post"].formatType = 3.0
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()


def _is_composite(glyph: Glyph) -> bool:
    """Whether a glyph is composite, read from its raw header when it has not been decompiled."""
    data = getattr(glyph, "data", None)
    if data is None:
        return bool(glyph.isComposite())
    return len(data) >= 2 and int.from_bytes(data[:2], "big", signed=True) < 0


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>|\[([^\]]*)\]")


def _parse_to_unicode(cmap: bytes) -> dict[int, bytes]:
    """Code → UTF-16BE hex of a simple font's ToUnicode CMap (bfchar and bfrange)."""
    out: dict[int, bytes] = {}
    for block in _BFCHAR.findall(cmap):
        items = [m[1] for m in _HEX.finditer(block)]
        for src, dst in zip(items[::2], items[1::2], strict=True):
            out[int(src, 16)] = dst.upper()
    for block in _BFRANGE.findall(cmap):
        matches = list(_HEX.finditer(block))
        for i in range(0, len(matches), 3):
            lo, hi, dst = int(matches[i].group(1), 16), int(matches[i + 1].group(1), 16), matches[i + 2]
            array: bytes | None = dst.group(2)
            if array is not None:  # array of destinations
                dests = re.findall(rb"<([0-9A-Fa-f]*)>", array)
                for k, code in enumerate(range(lo, hi + 1)):
                    out[code] = dests[k].upper()
            else:
                hex_dst: bytes = dst.group(1)
                base = int(hex_dst, 16)
                width = len(hex_dst)
                for k, code in enumerate(range(lo, hi + 1)):
                    out[code] = b"%0*X" % (width, base + k)
    return out


def to_unicode(cmap: bytes, codes: Iterable[int]) -> bytes:
    """A ToUnicode CMap holding only ``codes``' entries; the rest of the map would name others' text."""
    mapping = _parse_to_unicode(cmap)
    used = sorted(c for c in set(codes) if c in mapping)
    lines = [
        b"/CIDInit/ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo<<\n"
        b"/Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName/Adobe-Identity-UCS def\n"
        b"/CMapType 2 def\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    ]
    for i in range(0, len(used), 100):
        chunk = used[i : i + 100]
        lines.append(b"%d beginbfchar\n" % len(chunk))
        lines.extend(b"<%02X> <%s>\n" % (c, mapping[c]) for c in chunk)
        lines.append(b"endbfchar\n")
    lines.append(b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
    return b"".join(lines)
