"""Safe clean-ups of what Excel and WPS users type: stray spaces, full-width characters, a lower-case x.

Pure text functions. They fix only what has a single obvious reading; anything else is left for
validation to reject. Chinese punctuation in names and unit names (（）、·) is kept as typed.
"""

from __future__ import annotations

import re
import unicodedata

# ASCII whitespace, NBSP, ideographic space, zero-width characters and a stray BOM.
_SPACES = " \t\r\n\v\f\u00a0\u3000\u2002\u2003\u2009\u200b\u200c\u200d\u2060\ufeff"
_SPACE_RUN = re.compile(f"[{_SPACES}]+")
# Full-width ASCII block U+FF01–U+FF5E maps onto U+0021–U+007E.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FULL_ALNUM_TO_HALF = {
    code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}
# Dots people type between the parts of a transliterated name (买买提·艾力).
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "\u2027": "·"})
_CJK_ONLY = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·\s]+")


def clean_text(value: str) -> str:
    """Trim surrounding spaces of every kind, fold inner runs to one space, full-width letters/digits to ASCII."""
    return _SPACE_RUN.sub(" ", value).strip().translate(_FULL_ALNUM_TO_HALF)


def clean_code(value: str) -> str:
    """For codes, numbers and dates: every full-width ASCII character to half-width, all spaces removed."""
    return _SPACE_RUN.sub("", value.translate(_FULL_TO_HALF))


def clean_name(value: str) -> str:
    """A person's name; spaces padded inside a Chinese name (黎  强) are layout, not part of it."""
    text = clean_text(value).translate(_NAME_DOTS)
    if _CJK_ONLY.fullmatch(text):
        text = text.replace(" ", "")
    return text


def clean_header(value: str) -> str:
    """Headers compare after NFKC (（年）→(年)) and without any spaces."""
    return _SPACE_RUN.sub("", unicodedata.normalize("NFKC", value))
