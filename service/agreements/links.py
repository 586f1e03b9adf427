"""One-time signing links and one-time codes: the secrets go to the signer, only hashes are stored.

A link token carries 256 bits (``secrets.token_urlsafe(32)``) and is stored as its SHA-256; a
6-digit code is stored as an HMAC keyed with the server secret and bound to the request, so a
database dump reveals neither. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def new_token() -> tuple[str, str]:
    """A fresh link token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_token(token), stored_hash)


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/s/{token}"


def new_code() -> str:
    """Six random digits, leading zeros kept."""
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(code: str, secret: str, request_id: int) -> str:
    """HMAC-SHA256 over the request id and the code: the same code on another request differs."""
    return hmac.new(secret.encode(), f"{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(code: str, stored_hash: str | None, secret: str, request_id: int) -> bool:
    if stored_hash is None:
        return False
    return hmac.compare_digest(hash_code(code.strip(), secret, request_id), stored_hash)


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` in Beijing time, as an aware UTC datetime."""
    local = datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)
    return local.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expired(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and as_utc(moment) <= now


def seconds_left(moment: datetime, now: datetime) -> int:
    return max(0, int((as_utc(moment) - now) / timedelta(seconds=1)))
