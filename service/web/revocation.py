"""Ending a browser session on the server, and asking whether a cookie's session still stands.

The session cookie is signed, not stored, so logging out in the browser alone would leave a copy
taken earlier (a shared computer, a stolen cookie) valid until it expires. 退出 therefore records
the session's ``sid`` in the database the processes share, and every request that trusts a
logged-in cookie asks it here. Only ended sessions are stored, each only as long as some cookie
with its sid could still be valid, so the table stays small and the check is one primary-key probe.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from service.web.session import LIFETIME, WebSession, decode
from storage.models import EndedSession, User

# Another process may refresh the session a moment before the logout commits, by a clock a little
# ahead of ours; the row must outlive that cookie too, or the cookie would come back to life.
CLOCK_MARGIN = timedelta(minutes=5)


def end_session(db: Session, sid: str, *, now: datetime | None = None) -> None:
    """Record ``sid`` as ended until no cookie carrying it can be valid; drop rows past that point.

    The purge is an indexed range delete of rows already useless, so it stays cheap and the table
    never holds more than the logouts of the last few hours. A second logout with the same cookie
    (a double click, two tabs) is not an error.
    """
    now = now or datetime.now(UTC)
    db.execute(delete(EndedSession).where(col(EndedSession.expires) < now))
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    row = insert(EndedSession).values(sid=sid, ended_at=now, expires=now + LIFETIME + CLOCK_MARGIN)
    db.execute(row.on_conflict_do_nothing(index_elements=["sid"]))


def session_user(db: Session, web: WebSession | None) -> User | None:
    """The active user a logged-in session belongs to, unless the session was ended.

    The user row and the ended-session probe are one query, so trusting a cookie costs a page no
    extra round trip over loading its user. None for a visitor, an ended session, or a user who
    was removed or deactivated: all the same to the caller, who treats them as not logged in.
    """
    if web is None or web.user_id is None:
        return None
    ended = exists().where(col(EndedSession.sid) == web.sid)
    user = db.exec(select(User).where(col(User.id) == web.user_id, ~ended)).first()
    return user if user is not None and user.active else None


def cookie_user(db: Session, cookie: str | None, secret: str) -> User | None:
    """The logged-in user of a session cookie, for read-only API calls made by our own pages."""
    return session_user(db, decode(cookie, secret))
