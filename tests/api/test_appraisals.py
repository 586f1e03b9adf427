"""Recording grades: the grade scale as data, the 20% 优秀 cap, bulk all-or-nothing, eligibility."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.cohorts import service as cohorts
from service.organizations import service as orgs
from storage.models import Organization, Role, ServiceTerm, User
from tests.api.conftest import COUNTY_A1, LEAGUE_A
from tests.api.factories import auth, create_login, create_unit, create_volunteer

URL = "/api/v1/appraisals"


class Setup:
    def __init__(self, session: Session, serving: int, agreed_years: int = 1) -> None:
        self.cohort = cohorts.get_or_create(session, "2020-2021")
        self.unit: Organization = create_unit(session, LEAGUE_A, COUNTY_A1, "回民区第一中学")
        self.terms: list[ServiceTerm] = [
            create_volunteer(session, self.cohort, self.unit, agreed_years=agreed_years)[1]
            for _ in range(serving)
        ]
        office = orgs.county_office(session, LEAGUE_A, COUNTY_A1)
        self.county: User = create_login(session, Role.COUNTY_OFFICE, organization=office)
        session.commit()

    def item(self, i: int, grade: str = "优秀", year: int = 1) -> dict[str, object]:
        return {"term_id": self.terms[i].id, "service_year": year, "grade": grade}


def test_grade_scale_is_listed(client: TestClient, session: Session) -> None:
    s = Setup(session, 1)
    grades = client.get(f"{URL}/grades", headers=auth(s.county)).json()
    assert [g["code"] for g in grades] == ["优秀", "合格", "基本合格", "不合格"]


def test_unknown_grade_rejected_listing_valid_ones(client: TestClient, session: Session) -> None:
    s = Setup(session, 1)
    response = client.post(URL, json=s.item(0, "良好"), headers=auth(s.county))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_grade"
    assert body["valid_grades"] == ["优秀", "合格", "基本合格", "不合格"]
    assert "优秀、合格、基本合格、不合格" in body["detail"]


def test_year_beyond_agreed_service_rejected(client: TestClient, session: Session) -> None:
    s = Setup(session, 1, agreed_years=1)
    response = client.post(URL, json=s.item(0, "合格", year=2), headers=auth(s.county))
    assert response.status_code == 422
    assert response.json()["code"] == "service_year_out_of_range"


def test_excellent_cap_refuses_the_third_of_ten_with_counts(client: TestClient, session: Session) -> None:
    s = Setup(session, 10)
    headers = auth(s.county)
    assert client.post(URL, json=s.item(0), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(1), headers=headers).status_code == 201
    response = client.post(URL, json=s.item(2), headers=headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["serving"], body["excellent"], body["allowed"], body["adding"]) == (10, 2, 2, 1)
    assert "优秀等次已有2人" in body["detail"] and "最多2人" in body["detail"]
    # 合格 is not capped.
    assert client.post(URL, json=s.item(2, "合格"), headers=headers).status_code == 201


def test_regrading_frees_a_place(client: TestClient, session: Session) -> None:
    s = Setup(session, 5)
    headers = auth(s.county)
    assert client.post(URL, json=s.item(0), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(1), headers=headers).status_code == 409
    # Recording the same 优秀 again is not a new one.
    assert client.post(URL, json=s.item(0), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(0, "合格"), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(1), headers=headers).status_code == 201
    assert client.get(URL, params={"grade": "优秀"}, headers=headers).json()["total"] == 1


def test_bulk_over_cap_writes_nothing(client: TestClient, session: Session) -> None:
    s = Setup(session, 10)
    headers = auth(s.county)
    items = [s.item(i, "合格") for i in range(5)] + [s.item(i) for i in range(5, 8)]
    response = client.post(f"{URL}/bulk", json={"items": items}, headers=headers)
    assert response.status_code == 409
    assert response.json()["adding"] == 3
    assert client.get(URL, headers=headers).json()["total"] == 0


def test_bulk_within_cap_writes_all(client: TestClient, session: Session) -> None:
    s = Setup(session, 10)
    headers = auth(s.county)
    items = [s.item(i, "合格") for i in range(8)] + [s.item(8), s.item(9)]
    response = client.post(f"{URL}/bulk", json={"items": items}, headers=headers)
    assert response.status_code == 201, response.text
    assert len(response.json()) == 10
    summary = client.get(f"{URL}/summary", params={"cohort": "2020-2021"}, headers=headers).json()
    assert (summary["serving"], summary["excellent"], summary["allowed"], summary["remaining"]) == (
        10,
        2,
        2,
        0,
    )


def test_bulk_duplicate_item_rejected(client: TestClient, session: Session) -> None:
    s = Setup(session, 2)
    response = client.post(
        f"{URL}/bulk", json={"items": [s.item(0, "合格"), s.item(0, "合格")]}, headers=auth(s.county)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "duplicate_item"


def test_cap_counts_only_volunteers_serving_that_year(client: TestClient, session: Session) -> None:
    """Year 2 counts only terms agreed for two years or more: 5 two-year terms allow one 优秀."""
    s = Setup(session, 5, agreed_years=2)
    for _ in range(5):
        create_volunteer(session, s.cohort, s.unit, agreed_years=1)
    session.commit()
    headers = auth(s.county)
    summary = client.get(
        f"{URL}/summary", params={"cohort": "2020-2021", "service_year": 2}, headers=headers
    ).json()
    assert (summary["serving"], summary["allowed"]) == (5, 1)
    assert client.post(URL, json=s.item(0, year=2), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(1, year=2), headers=headers).status_code == 409
    # Year 1 has all ten serving, so two places.
    assert client.post(URL, json=s.item(0, year=1), headers=headers).status_code == 201
    assert client.post(URL, json=s.item(1, year=1), headers=headers).status_code == 201


def test_summary_for_unknown_cohort_is_404(client: TestClient, session: Session) -> None:
    s = Setup(session, 1)
    assert (
        client.get(f"{URL}/summary", params={"cohort": "2030-2031"}, headers=auth(s.county)).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("grades", "eligible"),
    [(["合格", "合格", "合格"], True), (["合格", "基本合格", "合格"], False), (["合格", "合格"], False)],
)
def test_eligibility_after_completed_service(
    client: TestClient, session: Session, grades: list[str], eligible: bool
) -> None:
    cohort = cohorts.get_or_create(session, "2017-2018")
    unit = create_unit(session, LEAGUE_A, COUNTY_A1, "回民区第一中学")
    _, term = create_volunteer(session, cohort, unit, agreed_years=3, report_date=date(2017, 7, 25))
    admin = create_login(session, Role.REGION_ADMIN, organization=orgs.region_office(session))
    session.commit()
    headers = auth(admin)
    items = [{"term_id": term.id, "service_year": n, "grade": g} for n, g in enumerate(grades, start=1)]
    assert client.post(f"{URL}/bulk", json={"items": items}, headers=headers).status_code == 201
    body = client.get(f"/api/v1/terms/{term.id}/eligibility", headers=headers).json()
    assert body["completed"] is True
    assert body["service_end"] == "2020-07-24"
    assert body["postgraduate_bonus"]["eligible"] is eligible
    assert body["postgraduate_bonus"]["window_end"] == "2023-07-24"
    assert body["fresh_graduate_treatment"]["eligible"] is eligible
    if len(grades) < 3:
        assert "第3年未考核" in body["postgraduate_bonus"]["reasons"]


def test_eligibility_while_serving(client: TestClient, session: Session) -> None:
    s = Setup(session, 1, agreed_years=3)
    # Cohort 2020-2021 with a three-year term reported in 2020 ends in 2023; move it into the future.
    s.terms[0].report_date = date(date.today().year + 1, 7, 25)
    session.add(s.terms[0])
    session.commit()
    body = client.get(f"/api/v1/terms/{s.terms[0].id}/eligibility", headers=auth(s.county)).json()
    assert body["completed"] is False
    assert body["postgraduate_bonus"]["reasons"] == ["服务尚未期满"]
