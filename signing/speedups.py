"""One hot spot in pyHanko's PDF parser, replaced by an equivalent that reads in chunks.

pyHanko reads a hex string one byte per Python call. A signature's ``/Contents`` is such a
string of 10–30 thousand hex digits (the CMS plus its reserved padding), so every time a signed
PDF is opened for its signatures — ``finish_lta``, validation, pyHanko's own
``embedded_signatures`` — parsing it costs ~1.3 µs a digit: 15–35 ms per signature, more than
signing itself. :func:`read_hex_string` reads up to the closing ``>`` in blocks and decodes it
with :mod:`binascii`; on anything unusual (a ``%`` comment inside the string, a non-hex
character, a truncated stream) it rewinds and lets pyHanko's original function decide, so
well-formed and malformed input get exactly pyHanko's answer. :func:`install` is idempotent and
runs when :mod:`signing` is imported.
"""

from __future__ import annotations

import binascii
import os
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

__all__ = ["install", "original_read_hex_string", "read_hex_string"]

_ORIGINAL = getattr(generic.read_hex_string_from_stream, "__wrapped_original__", None) or (
    generic.read_hex_string_from_stream
)
original_read_hex_string = _ORIGINAL
"""pyHanko's own implementation (for comparison in tests)."""

_BLOCK = 8192
_HEX = b"0123456789abcdefABCDEF"
_SPACE = PDF_WHITESPACE


def read_hex_string(stream: Any) -> Any:
    """Drop-in for ``pyhanko.pdf_utils.generic.read_hex_string_from_stream``."""
    start = stream.tell()
    stream.read(1)  # the opening '<'
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_BLOCK)
        end = chunk.find(b">")
        if not chunk or b"%" in (chunk if end < 0 else chunk[:end]):
            stream.seek(start, os.SEEK_SET)  # truncated or a comment: pyHanko's rules apply
            return _ORIGINAL(stream)
        if end < 0:
            parts.append(chunk)
            continue
        parts.append(chunk[:end])
        stream.seek(end + 1 - len(chunk), os.SEEK_CUR)  # just past the '>'
        break
    digits = b"".join(parts).translate(None, _SPACE)
    if digits.translate(None, _HEX):
        stream.seek(start, os.SEEK_SET)  # let pyHanko raise its own error
        return _ORIGINAL(stream)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


read_hex_string.__wrapped_original__ = _ORIGINAL  # type: ignore[attr-defined]


def install() -> None:
    """Make pyHanko's parser use :func:`read_hex_string` (the module looks the name up at call time)."""
    generic.read_hex_string_from_stream = read_hex_string
