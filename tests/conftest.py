"""Test settings and the database: migrated once per run, emptied after each test that used it.

Runs on SQLite always; on PostgreSQL when XIBU_TEST_DATABASE_URL is set (``.ci/run`` does both).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="xibu-test-"))
TEST_DATABASE_URL = os.environ.get("XIBU_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
os.environ["XIBU_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["XIBU_DATA_DIR"] = str(_TMP / "data")
os.environ["XIBU_ENVIRONMENT"] = "test"
os.environ.setdefault("XIBU_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ["XIBU_MASTER_KEY"] = "test-master-key-not-for-production-0123456789"
# Stamp fonts take ~25 s to build; they hold no secrets, so one cache serves every test run.
os.environ.setdefault("XIBU_CACHE_DIR", str(Path(tempfile.gettempdir()) / "xibu-test-cache"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SHEET_CSV = SHARED_DATA / "volunteers-2020.csv"
SHEET_XLSX = SHARED_DATA / "volunteers-2020.xlsx"

# Rows that seed data puts there and tests must not delete.
_KEEP = {"appraisalgrade", "alembic_version"}


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_url() -> str:
    from storage import migrate

    if TEST_DATABASE_URL.startswith("postgresql"):
        _reset_postgres(TEST_DATABASE_URL)
    migrate.upgrade(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def pki_ready() -> object:
    """Our CA, issuing CA and TSA in the test data folder, as ``xibu init`` creates them."""
    from service.pki.service import ensure_pki

    return ensure_pki()


@pytest.fixture()
def engine(migrated_url: str) -> Iterator[object]:
    from sqlmodel import SQLModel

    from storage.db import get_engine

    eng = get_engine()
    yield eng
    with eng.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in _KEEP:
                conn.execute(table.delete())


@pytest.fixture()
def session(engine: object) -> Iterator[object]:
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as s:  # type: ignore[call-overload]
        yield s


@pytest.fixture()
def settings() -> object:
    from service.config import get_settings

    return get_settings()


@pytest.fixture()
def client(engine: object) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from service.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
