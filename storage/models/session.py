"""Browser sessions that were logged out before their cookie expired.

The session cookie is stateless (a signed JWT, service/web/session.py), so without this table a
copy of it taken before 退出 would keep working until it expires. Only ended sessions are stored,
never live ones: a page request costs one primary-key probe, and a row can go once no cookie with
its ``sid`` could be valid anyway (``expires``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class EndedSession(SQLModel, table=True):
    sid: str = Field(primary_key=True, max_length=64)
    ended_at: datetime = Field(sa_type=DateTime(timezone=True))
    # The latest expiry any cookie with this sid can carry: after it the row proves nothing.
    expires: datetime = Field(sa_type=DateTime(timezone=True), index=True)
