"""The verification endpoints' rate limits: one limiter of each kind per process, sized from settings.

Clients are told apart by the connection's address (``request.client.host``). Behind a reverse
proxy that is the proxy's address unless uvicorn is told to trust its ``X-Forwarded-For``
(``--proxy-headers --forwarded-allow-ips``); the header is never read here, because any client
could set it.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request

from service.config import get_settings
from service.verification.ratelimit import RateLimiter
from service.verification.service import RateLimited

__all__ = ["client_address", "document_identity_limiter", "limit", "lookup_limiter"]


@lru_cache
def lookup_limiter() -> RateLimiter:
    s = get_settings()
    return RateLimiter(s.verify_lookups_per_minute, s.verify_lookup_burst)


@lru_cache
def identity_limiter() -> RateLimiter:
    s = get_settings()
    return RateLimiter(s.verify_identity_per_hour / 60, s.verify_identity_burst)


@lru_cache
def document_identity_limiter() -> RateLimiter:
    s = get_settings()
    return RateLimiter(s.verify_identity_per_document_per_hour / 60, s.verify_identity_burst)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit(request: Request, limiter: RateLimiter, what: str = "查询") -> None:
    """Take a token for the request's client, or refuse with 429 and Retry-After."""
    decision = limiter.take(client_address(request))
    if not decision.allowed:
        raise RateLimited(decision.retry_after, what)
