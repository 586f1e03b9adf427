"""The task queue (Huey). Jobs are named ``domain.verb``, take ids, and open their own session.

Backends, chosen from settings so that the embedded default needs no extra server:
SQLite database → a SQLite queue file in the data folder; PostgreSQL → queue tables in the same
database (``FOR UPDATE SKIP LOCKED``), so workers on several machines share it; ``XIBU_QUEUE_URL``
``redis://…`` → Redis.
"""

from __future__ import annotations

from functools import lru_cache

from huey import Huey, RedisHuey, SqliteHuey

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
