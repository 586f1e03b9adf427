"""The chunked hex-string reader gives pyHanko's own answer, for good and bad input alike."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

import signing  # noqa: F401  (installs the speedup)
from signing import speedups

CASES = [
    b"<>",
    b"<00>",
    b"<0>",
    b"<abc>",
    b"<DEADbeef>",
    b"<de ad\nbe\tef\r\x00\x0c>",
    b"<" + b"3082" * 5000 + b"0" * 20000 + b"> trailing",
    b"<" + b"ab" * 4095 + b"\n" + b"cd" * 5000 + b">",  # '>' beyond the first block
    b"<6162 % comment with > inside\n 63>",
]
BAD = [b"<zz>", b"<12 34 g>", b"<1234", b""]


def _read(fn: object, data: bytes) -> tuple[object, int]:
    stream = io.BytesIO(data)
    result = fn(stream)  # type: ignore[operator]
    return result, stream.tell()


def test_installed() -> None:
    assert generic.read_hex_string_from_stream is speedups.read_hex_string


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_same_value_and_position_as_pyhanko(data: bytes) -> None:
    assert _read(speedups.read_hex_string, data) == _read(speedups.original_read_hex_string, data)


@pytest.mark.parametrize("data", BAD, ids=range(len(BAD)))
def test_bad_input_raises_like_pyhanko(data: bytes) -> None:
    with pytest.raises(PdfStreamError):
        _read(speedups.original_read_hex_string, data)
    with pytest.raises(PdfStreamError):
        _read(speedups.read_hex_string, data)
