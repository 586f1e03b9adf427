"""Volunteer lists: masking by role, pagination, filters; organizations and cohorts created by the admin."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.cohorts import rules
from service.cohorts import service as cohorts
from service.organizations import service as orgs
from storage.models import Role
from tests.api.conftest import COUNTY_A1, COUNTY_B1, LEAGUE_A, LEAGUE_B, World
from tests.api.factories import auth, create_login, create_unit, create_volunteer


def _by_id(items: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {v["id"]: v for v in items}


def test_county_office_sees_full_numbers(client: TestClient, world: World) -> None:
    items = _by_id(client.get("/api/v1/volunteers", headers=auth(world.users["county_a1"])).json()["items"])
    v = world.volunteers["a1"]
    assert items[v.id]["id_number"] == v.id_number
    assert items[v.id]["phone"] == v.phone
    assert items[v.id]["birth_date"] == v.birth_date.isoformat()
    assert items[v.id]["id_number_masked"] is False


def test_league_office_and_unit_see_masked_numbers(client: TestClient, world: World) -> None:
    v = world.volunteers["a1"]
    for login in ("league_a", "unit_a1"):
        headers = auth(world.users[login])
        listed = _by_id(client.get("/api/v1/volunteers", headers=headers).json()["items"])[v.id]
        single = client.get(f"/api/v1/volunteers/{v.id}", headers=headers).json()
        for body in (listed, single):
            assert (
                body["id_number"]
                == rules.mask_id_number(v.id_number)
                == v.id_number[:6] + "********" + v.id_number[-4:]
            )
            assert body["phone"] == v.phone[:3] + "****" + v.phone[-4:]
            # The birth date would fill the masked middle back in.
            assert body["birth_date"] is None
            assert v.id_number not in str(body) and v.phone not in str(body)


def test_volunteer_sees_own_full_record(client: TestClient, world: World) -> None:
    v = world.volunteers["a1"]
    body = client.get(f"/api/v1/volunteers/{v.id}", headers=auth(world.users["vol_a1"])).json()
    assert body["id_number"] == v.id_number
    assert [t["id"] for t in body["terms"]] == [world.terms["a1"].id]
    assert body["terms"][0]["post"]["unit_name"] == "回民区第一中学"


def test_pagination_walks_every_volunteer_once(client: TestClient, session: Session) -> None:
    cohort = cohorts.get_or_create(session, "2020-2021")
    unit = create_unit(session, LEAGUE_A, COUNTY_A1, "回民区第一中学")
    made = {create_volunteer(session, cohort, unit)[0].id for _ in range(10)}
    admin = create_login(session, Role.REGION_ADMIN, organization=orgs.region_office(session))
    session.commit()
    seen: list[int] = []
    for offset in range(0, 12, 3):
        body = client.get(
            "/api/v1/volunteers", params={"limit": 3, "offset": offset}, headers=auth(admin)
        ).json()
        assert body["total"] == 10 and body["limit"] == 3 and body["offset"] == offset
        assert len(body["items"]) == (3 if offset < 9 else 1)
        seen += [v["id"] for v in body["items"]]
    assert set(seen) == made and len(seen) == len(made)
    assert client.get("/api/v1/volunteers", params={"limit": 0}, headers=auth(admin)).status_code == 422
    assert client.get("/api/v1/volunteers", params={"limit": 10_000}, headers=auth(admin)).status_code == 422


def test_filters(client: TestClient, world: World) -> None:
    headers = auth(world.users["admin"])

    def ids(**params: object) -> set[int]:
        return {
            v["id"] for v in client.get("/api/v1/volunteers", params=params, headers=headers).json()["items"]
        }

    assert ids(league=LEAGUE_B) == world.vid("b1", "b1b")
    assert ids(county=COUNTY_A1) == world.vid("a1", "a1b")
    assert ids(unit_id=world.units["a2"].id) == world.vid("a2")
    assert ids(track="医疗卫生") == world.vid("a1b")
    assert ids(project_type="地方项目") == set()
    assert ids(cohort="2020-2021") == world.vid("a1", "a1b", "a2", "b1", "b1b")
    assert ids(cohort="2019-2020") == set()
    assert ids(name=world.volunteers["a2"].name) == world.vid("a2")
    assert ids(name="%") == set()  # wildcards are literal


def test_admin_creates_unit_with_credit_code(client: TestClient, world: World) -> None:
    headers = auth(world.users["admin"])
    body17 = "12150100MB1C2D3E4"
    code = body17 + rules.credit_code_check_character(body17)
    unit = {
        "kind": "服务单位",
        "name": "东河区卫生院",
        "league": LEAGUE_B,
        "county": COUNTY_B1,
        "credit_code": code,
    }
    response = client.post("/api/v1/organizations", json=unit, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["credit_code"] == code and created["county"] == COUNTY_B1
    assert client.post("/api/v1/organizations", json=unit, headers=headers).status_code == 409
    # The county office of 东河区 now sees it; 回民区's does not.
    assert (
        client.get(
            f"/api/v1/organizations/{created['id']}", headers=auth(world.users["county_b1"])
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/organizations/{created['id']}", headers=auth(world.users["county_a1"])
        ).status_code
        == 404
    )


def test_organization_checks(client: TestClient, world: World) -> None:
    headers = auth(world.users["admin"])
    base = {"kind": "服务单位", "name": "某单位", "league": LEAGUE_A, "county": COUNTY_A1}
    bad_code = client.post(
        "/api/v1/organizations", json={**base, "credit_code": "91150100MA0N1PQ4R0"}, headers=headers
    )
    assert bad_code.status_code == 422 and "统一社会信用代码" in bad_code.json()["detail"]
    wrong_county = client.post("/api/v1/organizations", json={**base, "county": COUNTY_B1}, headers=headers)
    assert wrong_county.status_code == 422 and wrong_county.json()["code"] == "unknown_county"
    wrong_league = client.post("/api/v1/organizations", json={**base, "league": "北京市"}, headers=headers)
    assert wrong_league.status_code == 422
    office = client.post(
        "/api/v1/organizations",
        json={"kind": "旗县项目办", "name": "x旗项目办", "league": LEAGUE_A, "county": COUNTY_A1},
        headers=headers,
    )
    assert office.status_code == 201


def test_admin_creates_cohort(client: TestClient, world: World) -> None:
    headers = auth(world.users["admin"])
    response = client.post("/api/v1/cohorts", json={"code": "2021-2022"}, headers=headers)
    assert response.status_code == 201
    assert response.json()["signing_deadline"] == "2021-08-14"
    assert client.post("/api/v1/cohorts", json={"code": "2021-2022"}, headers=headers).status_code == 409
    bad = client.post("/api/v1/cohorts", json={"code": "2021-2023"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "cohort_code"
    listed = client.get("/api/v1/cohorts", headers=auth(world.users["vol_a1"])).json()
    assert [c["code"] for c in listed] == ["2021-2022", "2020-2021"]
    assert (
        client.get(
            f"/api/v1/cohorts/{response.json()['id']}", headers=auth(world.users["unit_a1"])
        ).status_code
        == 200
    )
