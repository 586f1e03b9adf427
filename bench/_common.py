"""Set-up shared by the benches: an empty database at the newest migration, and an invented cohort in it.

Service modules are imported inside the functions: a bench sets its ``XIBU_*`` settings (database,
data folder) before the first of them loads.
"""

from __future__ import annotations

COHORT = "2020-2021"


def fresh_database(url: str) -> None:
    """An empty schema at the newest migration. A PostgreSQL database named for a bench is emptied
    first (its tables are dropped), so no run measures over the rows of the one before."""
    from storage import migrate

    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def invented_cohort(url: str, volunteers: int, *, seed: int, cohort: str = COHORT) -> None:
    """:func:`fresh_database`, our CA and stamp fonts, and ``volunteers`` invented volunteers (no rare
    cases) imported into ``cohort``: what a bench issues and signs documents for.

    ``url`` must be the database the settings name (``XIBU_DATABASE_URL``): the import goes there.
    """
    from service.demo.generate import generate_rows, to_csv
    from service.imports.service import import_sheet
    from service.pki.service import ensure_pki, stamp_fonts
    from storage.db import session_scope

    fresh_database(url)
    ensure_pki()
    stamp_fonts()
    with session_scope() as session:
        import_sheet(session, to_csv(generate_rows(volunteers, seed=seed, rare_every=0)), "bench.csv", cohort)
