"""A real LibreOffice pool for the whole documents test session, and a small invented cohort."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from doc_templates.convert import ConverterPool
from doc_templates.fonts import libreoffice_env
from service.config import get_settings
from service.demo.generate import generate_rows, to_csv
from service.documents.converter import PoolConverter
from service.imports.service import import_sheet
from storage.archive import Archive

COHORT = "2020-2021"


@pytest.fixture(scope="session")
def converter() -> Iterator[PoolConverter]:
    with ConverterPool(size=2, env=libreoffice_env()) as pool:
        yield PoolConverter(pool)


@pytest.fixture()
def archive() -> Archive:
    return Archive.at(Path(get_settings().data_dir))


def load_cohort(
    engine: object, count: int, *, seed: int = 11, rows: list[dict[str, str]] | None = None
) -> None:
    """Import ``count`` invented volunteers into the 2020-2021 cohort through the real importer."""
    data = to_csv(rows if rows is not None else generate_rows(count, seed=seed, rare_every=0))
    with Session(engine) as session:  # type: ignore[call-overload]
        import_sheet(session, data, "cohort.csv", COHORT)
        session.commit()


@pytest.fixture(autouse=True)
def _pki(pki_ready: object) -> object:
    """Notices and certificates are sealed at issuance: every documents test needs our CA."""
    return pki_ready
