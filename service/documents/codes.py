"""Verification codes printed on every document and encoded in its QR code.

A code is the only thing a verifier types, so it must be unguessable (80 random bits: 2^80 codes
against ~10^4 documents a year makes enumeration hopeless even without rate limits) and forgiving
to read aloud or retype (Crockford base32: no I, L, O, U; case-insensitive; hyphens optional).
What people type is forgiven further: full-width characters (a Chinese input method's ７ＫＱ３),
any dash or space between the groups, and Crockford's aliases (O reads as 0, I and L as 1).
Uniqueness is enforced where codes are stored (a unique index); at 80 bits a collision is a bug.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

__all__ = ["CODE_BITS", "InvalidCode", "new_code", "normalize_code", "qr_payload"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BITS = 80
_LENGTH = CODE_BITS // 5  # 16 symbols
_GROUP = 4
# Crockford's decoding: letters people confuse with digits read as those digits.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
# Longer input is refused before any work: whatever a person types or a QR code carries is far shorter.
MAX_INPUT = 64
# The canonical form, as QR codes carry it: taken as is, without the forgiving folds below.
_CANONICAL = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}")


class InvalidCode(ValueError):
    """Not a verification code; the message is Chinese, for the person who typed it."""


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + _GROUP] for i in range(0, len(symbols), _GROUP))


def new_code() -> str:
    """A fresh code such as ``7KQ3-M9XD-2HFA-0RTV``."""
    value = secrets.randbits(CODE_BITS)
    symbols = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(_LENGTH)))
    return _group(symbols)


def normalize_code(text: str) -> str:
    """The canonical grouped form of what a person typed or a QR code carried.

    Full-width forms fold to ASCII (NFKC); whitespace and dashes of any kind (Unicode Pd: -, ‐, –, —,
    －, …) are separators and dropped; case is ignored; O reads as 0, I and L as 1.
    """
    if _CANONICAL.fullmatch(text):
        return text
    if len(text) > MAX_INPUT:
        raise InvalidCode(f"验证码应为{_LENGTH}位字母或数字，输入过长")
    folded = unicodedata.normalize("NFKC", text)
    kept = (c for c in folded if not c.isspace() and unicodedata.category(c) != "Pd")
    symbols = "".join(kept).upper().translate(_READ_AS)
    if len(symbols) != _LENGTH:
        raise InvalidCode(f"验证码应为{_LENGTH}位字母或数字，实际为{len(symbols)}位")
    bad = sorted({c for c in symbols if c not in ALPHABET})
    if bad:
        raise InvalidCode(f"验证码含有无效字符：{''.join(bad)}")
    return _group(symbols)


def qr_payload(public_url: str, code: str) -> str:
    """The URL a QR code carries: the public verification page for ``code``."""
    return f"{public_url.rstrip('/')}/v/{normalize_code(code)}"
