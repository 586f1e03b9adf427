"""Verification tests: real documents issued and sealed through the registry, the real database and app.

Each holder is invented with every kind of personal data the statement must never show, so a
test can look for each of them in what the public gets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from service.cohorts import service as cohorts
from service.documents import service as documents
from service.verification import limits
from service.verification import service as verification
from storage.archive import Archive
from storage.models import Appraisal, Document, Role
from tests.api.factories import auth, create_login, create_unit, create_volunteer
from tests.documents.conftest import archive, converter  # noqa: F401  (fixtures)

COHORT = "2020-2021"
LEAGUE, COUNTY = "呼和浩特市", "武川县"


@pytest.fixture(autouse=True)
def _pki(pki_ready: object) -> object:
    return pki_ready


@pytest.fixture(autouse=True)
def _fresh_limits_and_caches() -> Iterator[None]:
    """Every test starts with full buckets and empty caches (they live in this process)."""
    from service.verification.routes import upload_limiter

    for limiter in (
        limits.lookup_limiter(),
        limits.identity_limiter(),
        limits.document_identity_limiter(),
        upload_limiter(),
    ):
        limiter.reset()
    verification._statements.clear()
    yield


@dataclass(frozen=True)
class Holder:
    """A volunteer's personal data, to look for in public output."""

    name: str
    id_number: str
    birth_date: date
    phone: str
    email: str

    def secrets(self) -> dict[str, str]:
        b = self.birth_date
        return {
            "full name": self.name,
            "ID number": self.id_number,
            "ID number (lower-case x)": self.id_number.lower(),
            "birth date (ISO)": b.isoformat(),
            "birth date (digits)": b.strftime("%Y%m%d"),
            "birth date (Chinese)": f"{b.year}年{b.month}月{b.day}日",
            "phone": self.phone,
            "e-mail": self.email,
        }


@dataclass(frozen=True)
class Issued:
    document_id: int
    code: str
    term_id: int
    holder: Holder


def issue(
    engine: object,
    store: Archive,
    pool: object,
    kind: str = "certificate",
    *,
    name: str = "龚晓琳",
    agreed_years: int = 2,
    grades: dict[int, str] | None = None,
    unit_name: str = "武川县第一中学",
    report_date: date = date(2020, 7, 25),
    teaching_corps: bool = False,
) -> Issued:
    """One volunteer, their appraisals (by default 合格 every year) and one issued document of ``kind``."""
    graded = {y: "合格" for y in range(1, agreed_years + 1)} if grades is None else grades
    with Session(engine) as session:  # type: ignore[call-overload]
        cohort = cohorts.get_or_create(session, COHORT)
        unit = create_unit(session, LEAGUE, COUNTY, unit_name)
        volunteer, term = create_volunteer(
            session, cohort, unit, name=name, agreed_years=agreed_years, report_date=report_date
        )
        volunteer.email = f"holder{volunteer.id}@example.cn"
        term.graduate_teaching_corps = teaching_corps
        assert term.id is not None
        for year, grade in graded.items():
            session.add(Appraisal(term_id=term.id, service_year=year, grade=grade))
        session.flush()
        doc = documents.issue_one(session, store, pool, kind, term.id, year=1)  # type: ignore[arg-type]
        session.commit()
        assert doc.id is not None
        holder = Holder(
            volunteer.name, volunteer.id_number, volunteer.birth_date, volunteer.phone, volunteer.email
        )
        return Issued(doc.id, doc.verification_code, term.id, holder)


def admin_headers(engine: object) -> dict[str, str]:
    with Session(engine) as session:  # type: ignore[call-overload]
        user = create_login(session, Role.REGION_ADMIN)
        session.commit()
        return auth(user)


def county_headers(engine: object, county: str = COUNTY) -> dict[str, str]:
    from service.organizations.service import county_office

    with Session(engine) as session:  # type: ignore[call-overload]
        user = create_login(session, Role.COUNTY_OFFICE, organization=county_office(session, LEAGUE, county))
        session.commit()
        return auth(user)


def get_document(engine: object, document_id: int) -> Document:
    with Session(engine, expire_on_commit=False) as session:  # type: ignore[call-overload]
        doc = session.get(Document, document_id)
        assert doc is not None
        return doc


def lookup(client: Any, code: str) -> Any:
    return client.get(f"/api/v1/verify/{code}")


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_token(client: Any, path: str = "/v") -> str:
    """The CSRF token a visitor's page carries (the client keeps the session cookie it came with)."""
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"{path} has no form with a CSRF token"
    return found.group(1)


def identity_form(client: Any, code: str, field: str, value: str, *, token: str | None = None) -> Any:
    """The statement page's identity form, posted as a browser does: with the page's token."""
    data = {"csrf_token": token or page_token(client, f"/v/{code}"), "field": field, "value": value}
    return client.post(f"/v/{code}/identity", data=data)
