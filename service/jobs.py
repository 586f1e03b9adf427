"""The task queue (Huey). Jobs are named ``domain.verb``, take ids, and open their own session.

Backends, chosen from settings so that the embedded default needs no extra server:
SQLite database → a SQLite queue file in the data folder; PostgreSQL → queue tables in the same
database (``FOR UPDATE SKIP LOCKED``), so workers on several machines share it; ``XIBU_QUEUE_URL``
``redis://…`` → Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlmodel import Session

from service.config import Settings, get_settings


def make_huey(settings: Settings) -> Huey:
    name = "xibu"
    if settings.queue_url.startswith("redis://"):
        return RedisHuey(name, url=settings.queue_url)
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(settings.data_dir / "queue.db"))
    from huey.contrib.sql_huey import SqlHuey

    # peewee speaks psycopg 3 under the "psycopg3://" scheme.
    url = settings.queue_url or settings.database_url
    url = url.replace("postgresql+psycopg://", "psycopg3://").replace("postgresql://", "psycopg3://")
    return SqlHuey(name, database=url)


@lru_cache
def queue() -> Huey:
    return make_huey(get_settings())


_AFTER_COMMIT = "xibu_jobs_after_commit"


def enqueue_after_commit(session: Session, task: Callable[..., Any], *args: Any) -> None:
    """Queue ``task(*args)`` once the session's transaction commits; nothing if it rolls back.

    A job must never see a state its request did not commit, nor run for one that failed.
    """
    pending = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_rollback", lambda s: s.info.pop(_AFTER_COMMIT, None))
    pending.append((task, args))


def _run_pending(session: Session) -> None:
    for task, args in session.info.pop(_AFTER_COMMIT, []):
        task(*args)
