"""Role × endpoint matrix: nobody reads, lists, filters or guesses their way outside their scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.appraisals.schemas import AppraisalIn
from service.appraisals.service import record
from service.users.scope import Scope
from storage.models import Organization, Role
from tests.api.conftest import COUNTY_A1, COUNTY_B1, LEAGUE_A, LEAGUE_B, VISIBLE, World
from tests.api.factories import auth

LOGINS = sorted(VISIBLE)


def _get(client: TestClient, world: World, login: str, url: str, **params: Any) -> Any:
    return client.get(url, headers=auth(world.users[login]), params=params)


def _visible_orgs(world: World, login: str) -> set[int]:
    user = world.users[login]
    role = Role(user.role)

    def sees(org: Organization) -> bool:
        mine = next((o for o in world.orgs if o.id == user.organization_id), None)
        if role is Role.REGION_ADMIN:
            return True
        if role is Role.LEAGUE_OFFICE:
            return org.league == mine.league  # type: ignore[union-attr]
        if role is Role.COUNTY_OFFICE:
            return (org.league, org.county) == (mine.league, mine.county)  # type: ignore[union-attr]
        if role is Role.SERVICE_UNIT:
            return org.id == user.organization_id
        return any(org.id == world.units[k].id for k in world.units if k == login.removeprefix("vol_"))

    return {o.id or 0 for o in world.orgs if sees(o)}


@pytest.fixture()
def graded(world: World, session: Session) -> World:
    """Every term has a year-1 grade, recorded by the region office."""
    items = [AppraisalIn(term_id=t.id or 0, service_year=1, grade="合格") for t in world.terms.values()]
    record(session, Scope(Role.REGION_ADMIN), world.users["admin"].id, items)
    session.commit()
    return world


@pytest.mark.parametrize("login", LOGINS)
def test_volunteer_list_shows_exactly_the_scope(client: TestClient, world: World, login: str) -> None:
    body = _get(client, world, login, "/api/v1/volunteers").json()
    assert {v["id"] for v in body["items"]} == world.vid(*VISIBLE[login])
    assert body["total"] == len(VISIBLE[login])


@pytest.mark.parametrize("login", LOGINS)
def test_filters_never_widen_the_scope(client: TestClient, world: World, login: str) -> None:
    """Asking for another league, county or unit by name gives nothing beyond the scope."""
    visible = world.vid(*VISIBLE[login])
    cases: list[dict[str, Any]] = [
        {"league": LEAGUE_B},
        {"league": LEAGUE_A},
        {"county": COUNTY_B1},
        {"county": COUNTY_A1},
        {"unit_id": world.units["b1"].id},
        {"unit_id": world.units["a2"].id},
        {"cohort": "2020-2021"},
        {"name": "测试"},
        {"track": "基层青年工作"},
    ]
    for params in cases:
        for url in ("/api/v1/volunteers", "/api/v1/terms"):
            items = _get(client, world, login, url, **params).json()["items"]
            ids = {i["id"] if url.endswith("volunteers") else i["volunteer_id"] for i in items}
            assert ids <= visible, (login, url, params)


@pytest.mark.parametrize("login", LOGINS)
def test_single_volunteer_and_term_out_of_scope_is_404(client: TestClient, world: World, login: str) -> None:
    for key, volunteer in world.volunteers.items():
        expected = 200 if key in VISIBLE[login] else 404
        term_id = world.terms[key].id
        assert _get(client, world, login, f"/api/v1/volunteers/{volunteer.id}").status_code == expected
        assert _get(client, world, login, f"/api/v1/terms/{term_id}").status_code == expected
        assert _get(client, world, login, f"/api/v1/terms/{term_id}/eligibility").status_code == expected


@pytest.mark.parametrize("login", ["county_a1", "unit_a1", "vol_a1", "league_b"])
def test_guessing_sequential_ids_reads_like_missing(client: TestClient, world: World, login: str) -> None:
    """Out-of-scope ids and ids that do not exist get the same 404, so probing learns nothing."""
    all_ids = [v.id or 0 for v in world.volunteers.values()]
    visible = world.vid(*VISIBLE[login])
    for vid in range(min(all_ids) - 2, max(all_ids) + 3):
        response = _get(client, world, login, f"/api/v1/volunteers/{vid}")
        if vid in visible:
            assert response.status_code == 200
        else:
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["detail"] == f"志愿者（编号{vid}）不存在"


@pytest.mark.parametrize("login", LOGINS)
def test_term_list_shows_exactly_the_scope(client: TestClient, world: World, login: str) -> None:
    body = _get(client, world, login, "/api/v1/terms").json()
    assert {t["id"] for t in body["items"]} == world.tid(*VISIBLE[login])


@pytest.mark.parametrize("login", LOGINS)
def test_appraisal_list_shows_exactly_the_scope(client: TestClient, graded: World, login: str) -> None:
    body = _get(client, graded, login, "/api/v1/appraisals").json()
    assert {a["term_id"] for a in body["items"]} == graded.tid(*VISIBLE[login])
    for key, term in graded.terms.items():
        items = _get(client, graded, login, "/api/v1/appraisals", term_id=term.id).json()["items"]
        assert len(items) == (1 if key in VISIBLE[login] else 0)


@pytest.mark.parametrize("login", LOGINS)
def test_organizations_within_scope(client: TestClient, world: World, login: str) -> None:
    expected = _visible_orgs(world, login)
    body = _get(client, world, login, "/api/v1/organizations", limit=200).json()
    assert {o["id"] for o in body["items"]} == expected
    for org in world.orgs:
        status = _get(client, world, login, f"/api/v1/organizations/{org.id}").status_code
        assert status == (200 if org.id in expected else 404), (login, org.name)
    missing = max(o.id or 0 for o in world.orgs) + 1
    assert _get(client, world, login, f"/api/v1/organizations/{missing}").status_code == 404


def test_expected_org_scopes_are_not_trivial(world: World) -> None:
    """Guards the matrix itself: the expectations differ between roles."""
    sizes = {login: len(_visible_orgs(world, login)) for login in LOGINS}
    assert sizes["admin"] > sizes["league_a"] > sizes["county_a1"] > sizes["unit_a1"] == 1
    assert _visible_orgs(world, "vol_a1") == {world.units["a1"].id}


# --- writes --------------------------------------------------------------------------------------


def _record(client: TestClient, world: World, login: str, term_key: str) -> int:
    body = {"term_id": world.terms[term_key].id, "service_year": 1, "grade": "合格"}
    return client.post("/api/v1/appraisals", json=body, headers=auth(world.users[login])).status_code


@pytest.mark.parametrize("login", LOGINS)
def test_who_may_record_appraisals(client: TestClient, world: World, login: str) -> None:
    for key in world.terms:
        status = _record(client, world, login, key)
        if login == "admin":
            assert status == 201
        elif login.startswith("county_"):
            assert status == (201 if key in VISIBLE[login] else 404), (login, key)
        else:
            assert status == 403, (login, key)


def test_bulk_with_one_foreign_term_writes_nothing(client: TestClient, world: World) -> None:
    headers = auth(world.users["county_a1"])
    items = [
        {"term_id": world.terms["a1"].id, "service_year": 1, "grade": "合格"},
        {"term_id": world.terms["b1"].id, "service_year": 1, "grade": "合格"},
    ]
    response = client.post("/api/v1/appraisals/bulk", json={"items": items}, headers=headers)
    assert response.status_code == 404
    assert client.get("/api/v1/appraisals", headers=auth(world.users["admin"])).json()["total"] == 0


@pytest.mark.parametrize("login", [k for k in LOGINS if k != "admin"])
def test_admin_only_writes_refused(client: TestClient, world: World, login: str) -> None:
    headers = auth(world.users[login])
    assert client.post("/api/v1/cohorts", json={"code": "2021-2022"}, headers=headers).status_code == 403
    org = {"kind": "服务单位", "name": "新单位", "league": LEAGUE_A, "county": COUNTY_A1}
    assert client.post("/api/v1/organizations", json=org, headers=headers).status_code == 403
    user = {"username": "intruder", "password": "long-enough-pw", "role": "region_admin"}
    assert client.post("/api/v1/users", json=user, headers=headers).status_code == 403
    assert client.get("/api/v1/users", headers=headers).status_code == 403


@pytest.mark.parametrize("login", LOGINS)
def test_cap_summary_for_offices_only(client: TestClient, world: World, login: str) -> None:
    status = _get(client, world, login, "/api/v1/appraisals/summary", cohort="2020-2021").status_code
    offices = login == "admin" or login.startswith(("league_", "county_"))
    assert status == (200 if offices else 403)


def test_every_api_route_needs_a_token(client: TestClient, world: World) -> None:
    """A route added without the current-user dependency shows up here."""
    # Signing links carry their own credential (a 256-bit one-time token), not a login.
    # Verification is public by design (employers have no account): rate-limited, masked, never personal data.
    open_routes = (
        {"/api/v1/auth/token"}
        | {f"/api/v1/signing/{{token}}{tail}" for tail in ("", "/pdf", "/code", "/sign", "/decline")}
        | {"/api/v1/verify", "/api/v1/verify/{code}", "/api/v1/verify/{code}/identity"}
    )
    checked = 0
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    for path, operations in paths.items():
        if not path.startswith("/api/v1") or path in open_routes:
            continue
        url = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
        for method in operations:
            response = client.request(method.upper(), url)
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 15
