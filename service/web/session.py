"""The browser session: one signed cookie holding the user id, a session id, a CSRF token and an expiry.

The cookie is a JWT (HS256, the same machinery and secret as the API's bearer tokens) with its own
``typ`` ("web"), so an API token cannot stand in for a session cookie nor the other way round.
Every visitor gets one, logged in or not: the CSRF token it carries is what every form posts back,
so the login form, the signing page and the verification upload are protected like the office pages.

The server stores no live sessions, but 退出 records the cookie's ``sid`` as ended in the database
(service/web/revocation.py): a copy of the cookie would otherwise stay valid until it expires. The
sid is kept across refreshes, so ending it ends every copy. This module stays pure (no database);
whoever trusts or refreshes a logged-in cookie must ask revocation.py first.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import jwt
from starlette.responses import Response

COOKIE = "xibu_session"
CSRF_FIELD = "csrf_token"
# An office works through a morning or an afternoon without being logged out; a stolen cookie
# stops working by the end of the working day.
LIFETIME = timedelta(hours=8)
_ALGORITHM = "HS256"
_TYPE = "web"
# 128 bits: unguessable, so no one can end (or look up) another's session by its id.
_SID_BYTES = 16
_SID_LENGTH = (22, 64)  # token_urlsafe(16) is 22 characters; the column holds 64


@dataclass(frozen=True)
class WebSession:
    user_id: int | None
    sid: str
    csrf: str
    expires: datetime

    @property
    def logged_in(self) -> bool:
        return self.user_id is not None

    def needs_refresh(self, now: datetime) -> bool:
        """Past half its life: a user who keeps working is not logged out mid-task."""
        return self.expires - now < LIFETIME / 2


def new_session(user_id: int | None = None, *, now: datetime | None = None) -> WebSession:
    """A fresh session with a new id and CSRF token (log-in and log-out both rotate them)."""
    expires = (now or datetime.now(UTC)) + LIFETIME
    return WebSession(user_id, secrets.token_urlsafe(_SID_BYTES), secrets.token_urlsafe(32), expires)


def refreshed(session: WebSession, now: datetime | None = None) -> WebSession:
    """The same session (same sid, so a logout still ends it) with a later expiry."""
    return replace(session, expires=(now or datetime.now(UTC)) + LIFETIME)


def encode(session: WebSession, secret: str) -> str:
    payload: dict[str, object] = {
        "typ": _TYPE,
        "sid": session.sid,
        "csrf": session.csrf,
        "exp": session.expires,
    }
    if session.user_id is not None:
        payload["sub"] = str(session.user_id)
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def decode(value: str | None, secret: str) -> WebSession | None:
    """The session in a valid, unexpired cookie; None for anything else (tampered, expired, foreign).

    A cookie without a sid (issued before sessions had one) is None too: it could never be ended,
    so its holder starts over as a visitor and logs in again.
    """
    if not value:
        return None
    try:
        payload = jwt.decode(
            value, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "csrf", "sid"]}
        )
    except jwt.PyJWTError:
        return None
    csrf, sid = payload.get("csrf"), payload.get("sid")
    if payload.get("typ") != _TYPE or not isinstance(csrf, str) or len(csrf) < 32:
        return None
    if not isinstance(sid, str) or not _SID_LENGTH[0] <= len(sid) <= _SID_LENGTH[1]:
        return None
    user_id: int | None = None
    if "sub" in payload:
        try:
            user_id = int(payload["sub"])
        except (TypeError, ValueError):
            return None
    return WebSession(user_id, sid, csrf, datetime.fromtimestamp(int(payload["exp"]), UTC))


def csrf_matches(session: WebSession, submitted: object) -> bool:
    return isinstance(submitted, str) and hmac.compare_digest(submitted.encode(), session.csrf.encode())


def set_cookie(response: Response, session: WebSession, secret: str, *, secure: bool) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure behind HTTPS."""
    response.set_cookie(
        COOKIE,
        encode(session, secret),
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
