"""Agreements tests: real LibreOffice, real signatures, the real database, the outbox as the notifier."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from doc_templates.kinds import get_kind
from service.cohorts import service as cohorts
from service.config import get_settings
from service.organizations.service import county_office, region_office
from storage.models import Role
from tests.api.factories import auth, create_login, create_unit, create_volunteer
from tests.documents.conftest import archive, converter  # noqa: F401  (fixtures)

COHORT = "2020-2021"
LEAGUE, COUNTY = "呼和浩特市", "武川县"
COUNTY_MAIL, UNIT_MAIL = "county@wuchuan.example.cn", "unit@wuchuan.example.cn"
REGION_MAIL = "xibu@nmg.example.cn"
RECIPIENTS = {"county_office": COUNTY_MAIL, "unit": UNIT_MAIL, "region_office": REGION_MAIL}


@pytest.fixture(autouse=True)
def _pki(pki_ready: object) -> object:
    return pki_ready


@dataclass
class World:
    term_id: int
    volunteer_email: str
    unit_id: int
    county_office_id: int
    admin: dict[str, str]  # region admin of the 自治区项目办: signs 服务鉴定表 last
    county_user: dict[str, str]
    unit_user: dict[str, str]
    other_county_user: dict[str, str]
    other_unit_user: dict[str, str]  # another unit in the same county


def make_world(engine: object, *, name: str = "张三", report_date: date | None = None) -> World:
    """One volunteer at one unit in 武川县 (reported 2020-07-25 for one year unless told), logins for
    the region office, the county, the unit, another county and another unit of the same county."""
    with Session(engine) as session:  # type: ignore[call-overload]
        cohort = cohorts.get_or_create(session, COHORT)
        cohort.signing_deadline = date.today() + timedelta(days=30)  # the real Aug 14 2020 is long past
        unit = create_unit(session, LEAGUE, COUNTY, "武川县第一中学")
        dated = {"report_date": report_date} if report_date else {}
        volunteer, term = create_volunteer(session, cohort, unit, name=name, **dated)
        volunteer.email = f"v{volunteer.id}@example.cn"
        office = county_office(session, LEAGUE, COUNTY)
        other = county_office(session, LEAGUE, "土默特左旗")
        neighbour = create_unit(session, LEAGUE, COUNTY, "武川县第二中学")
        users = [
            create_login(session, Role.REGION_ADMIN, organization=region_office(session)),
            create_login(session, Role.COUNTY_OFFICE, organization=office),
            create_login(session, Role.SERVICE_UNIT, organization=unit),
            create_login(session, Role.COUNTY_OFFICE, organization=other),
            create_login(session, Role.SERVICE_UNIT, organization=neighbour),
        ]
        session.commit()
        assert term.id is not None and unit.id is not None and office.id is not None
        return World(term.id, volunteer.email, unit.id, office.id, *[auth(u) for u in users])


@pytest.fixture()
def world(engine: object) -> World:
    return make_world(engine)


def create_via_api(
    client: Any, world: World, *, path: str = "/api/v1/agreements", **extra: Any
) -> dict[str, Any]:
    """Send the world's term's document out for signing (an agreement unless ``kind`` says otherwise)."""
    parties = get_kind(extra.get("kind", "agreement")).parties
    recipients = {p: to for p, to in RECIPIENTS.items() if p in parties}
    body = {"cohort": COHORT, "term_id": world.term_id, "recipients": recipients, **extra}
    r = client.post(path, json=body, headers=world.admin)
    assert r.status_code == 201, r.text
    (created,) = r.json()["created"]
    return dict(created)


def tokens(created: dict[str, Any]) -> dict[str, str]:
    """The links minted at creation: the first party's only."""
    return {link["party"]: link["token"] for link in created["links"] if link["token"]}


def record_grade(client: Any, world: World, year: int = 1, grade: str = "合格") -> None:
    """The county office records the year's 年度考核 grade, as it does before sending the form."""
    body = {"term_id": world.term_id, "service_year": year, "grade": grade}
    r = client.post("/api/v1/appraisals", json=body, headers=world.county_user)
    assert r.status_code == 201, r.text


def outbox() -> list[dict[str, Any]]:
    folder = Path(get_settings().outbox_dir)
    if not folder.exists():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def latest_code(document_id: int, party: str) -> str:
    codes = [
        m
        for m in outbox()
        if m["purpose"] == "code" and m["document_id"] == document_id and m["party"] == party
    ]
    assert codes, f"no code for {party} in the outbox"
    return str(codes[-1]["code"])


def sent_link(document_id: int, party: str) -> str:
    """The token of the newest link the outbox sent to ``party`` (a token is shown nowhere else)."""
    sent = [
        m
        for m in outbox()
        if m["purpose"] == "link" and m["document_id"] == document_id and m["party"] == party
    ]
    assert sent, f"no link for {party} in the outbox"
    return str(sent[-1]["link"]).rsplit("/s/", 1)[1]


def sign_by_link(client: Any, document_id: int, party: str, token: str) -> Any:
    sent = client.post(f"/api/v1/signing/{token}/code")
    assert sent.status_code == 202, sent.text
    return client.post(f"/api/v1/signing/{token}/sign", json={"code": latest_code(document_id, party)})


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    """Each test reads only its own messages."""
    import shutil

    shutil.rmtree(get_settings().outbox_dir, ignore_errors=True)
