"""Models and migrations agree; an old database upgrades; downgrade and upgrade round-trip."""

from __future__ import annotations

from sqlalchemy import inspect, text

from storage import migrate
from storage.db import make_engine


def test_models_and_migrations_agree(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    assert migrate.schema_drift(engine) == []


def test_grade_scale_is_seeded_as_data(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, qualified, capped FROM appraisalgrade ORDER BY rank")).all()
    assert [r[0] for r in rows] == ["优秀", "合格", "基本合格", "不合格"]
    assert [bool(r[2]) for r in rows] == [True, False, False, False]


def test_empty_sqlite_database_upgrades_from_nothing_and_back(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    assert "volunteer" in inspect(engine).get_table_names()
    migrate.downgrade(url, "base")
    assert "volunteer" not in inspect(engine).get_table_names()
    migrate.upgrade(url)
    assert migrate.schema_drift(engine) == []


def test_older_database_with_data_upgrades_in_place(tmp_path) -> None:
    """`xibu init` on a database from the first release keeps its rows and reaches the newest schema."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "6e9a56635c4d")  # the first schema
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cohort (code, name, start_year, signing_deadline, report_window_start,"
                " report_window_end, created_at) VALUES ('2020-2021', '旧年度', 2020, '2020-08-14',"
                " '2020-07-20', '2020-07-31', '2020-06-15 00:00:00')"
            )
        )
    migrate.upgrade(url)
    assert migrate.schema_drift(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM cohort")).scalar_one() == "旧年度"
