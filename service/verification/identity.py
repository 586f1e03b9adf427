"""The optional identity check: does what the verifier typed match the holder? Only 一致 or 不一致.

Both sides are normalised the same way and compared as keyed hashes (HMAC-SHA256 under a key
derived from ``settings.secret_key``) with a constant-time comparison, so the answer is the only
thing the check gives away: no partial match, no timing that depends on how much of the input
was right. The holder's values never leave the server.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache

from service.verification.masking import NAME_SEPARATORS

__all__ = ["identity_key", "matches", "normalize_id_number", "normalize_name"]

_KEY_LABEL = b"xibu/verification/identity-check/v1"


@lru_cache(maxsize=4)
def identity_key(secret_key: str) -> bytes:
    """A key for this purpose only, derived from the application secret (HMAC as a KDF)."""
    return hmac.new(secret_key.encode(), _KEY_LABEL, hashlib.sha256).digest()


def normalize_name(value: str) -> str:
    """Full-width folded, whitespace dropped, every middle-dot look-alike read as ·."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join("·" if c in NAME_SEPARATORS else c for c in folded if not c.isspace())


def normalize_id_number(value: str) -> str:
    """Full-width digits folded, spaces and dashes dropped, a final x read as X."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(c for c in folded if c.isalnum()).upper()


def _digest(key: bytes, field: str, value: str) -> bytes:
    # The field name is part of the message: a name can never match an ID number.
    return hmac.new(key, f"{field}\x00{value}".encode(), hashlib.sha256).digest()


def matches(key: bytes, field: str, typed: str, stored: str) -> bool:
    """Whether ``typed`` is ``stored`` once both are normalised for ``field`` ("name" or "id_number")."""
    normalize = normalize_name if field == "name" else normalize_id_number
    given, held = normalize(typed), normalize(stored)
    # Empty input must not match an empty stored value (a volunteer without the field on file).
    same = hmac.compare_digest(_digest(key, field, given), _digest(key, field, held))
    return same and bool(given) and bool(held)
