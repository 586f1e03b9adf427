"""Login, tokens, and account administration."""

from __future__ import annotations

import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from service.config import get_settings
from service.organizations import service as orgs
from service.users.security import create_access_token
from service.users.service import create_user
from storage.models import Role, User
from tests.api.conftest import COUNTY_A1, LEAGUE_A, World
from tests.api.factories import PASSWORD, auth


def _login(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


class TestToken:
    def test_password_flow_gives_short_lived_bearer_token(self, client: TestClient, session: Session) -> None:
        create_user(session, username="clerk", password=PASSWORD, role=Role.REGION_ADMIN)
        session.commit()
        response = _login(client, "clerk", PASSWORD)
        assert response.status_code == 200  # type: ignore[attr-defined]
        body = response.json()  # type: ignore[attr-defined]
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == get_settings().access_token_minutes * 60
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["username"] == "clerk" and "password_hash" not in me.json()

    def test_wrong_password_is_401_problem_in_chinese(self, client: TestClient, session: Session) -> None:
        create_user(session, username="clerk", password=PASSWORD, role=Role.REGION_ADMIN)
        session.commit()
        for username, password in [("clerk", "wrong-password"), ("nobody", PASSWORD)]:
            response = _login(client, username, password)
            assert response.status_code == 401  # type: ignore[attr-defined]
            assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
            assert response.json()["detail"] == "用户名或密码错误"  # type: ignore[attr-defined]

    def test_inactive_user_cannot_log_in_or_use_old_token(self, client: TestClient, session: Session) -> None:
        user = create_user(session, username="gone", password=PASSWORD, role=Role.REGION_ADMIN)
        headers = auth(user)
        user.active = False
        session.commit()
        assert _login(client, "gone", PASSWORD).status_code == 401  # type: ignore[attr-defined]
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401

    def test_expired_garbage_and_foreign_tokens_are_401(self, client: TestClient, world: World) -> None:
        user_id = world.users["admin"].id or 0
        secret = get_settings().secret_key
        expired = create_access_token(user_id, secret, minutes=-1)
        foreign = create_access_token(user_id, "some-other-secret-0123456789abcdef", minutes=5)
        wrong_type = jwt.encode({"sub": str(user_id), "exp": 4102444800, "typ": "refresh"}, secret, "HS256")
        for token in [expired, foreign, wrong_type, "garbage", ""]:
            response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, token
            assert response.json()["detail"] == "未登录或登录已过期，请重新登录"
        assert client.get("/api/v1/auth/me", headers=auth(world.users["admin"])).status_code == 200


class TestUsersAdmin:
    def test_admin_creates_county_user_who_sees_the_county(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        office = orgs.county_office(session, LEAGUE_A, COUNTY_A1)
        body = {
            "username": "huimin",
            "password": "long-enough-pw",
            "role": "county_office",
            "organization_id": office.id,
        }
        response = client.post("/api/v1/users", json=body, headers=auth(world.users["admin"]))
        assert response.status_code == 201, response.text
        token = _login(client, "huimin", "long-enough-pw").json()["access_token"]  # type: ignore[attr-defined]
        listed = client.get("/api/v1/volunteers", headers={"Authorization": f"Bearer {token}"}).json()
        assert {v["id"] for v in listed["items"]} == world.vid("a1", "a1b")

    def test_role_bound_to_wrong_kind_of_organization_refused(self, client: TestClient, world: World) -> None:
        body = {
            "username": "bad",
            "password": "long-enough-pw",
            "role": "county_office",
            "organization_id": world.units["a1"].id,
        }
        response = client.post("/api/v1/users", json=body, headers=auth(world.users["admin"]))
        assert response.status_code == 422
        assert "旗县项目办" in response.json()["detail"]

    def test_volunteer_account_needs_a_volunteer(self, client: TestClient, world: World) -> None:
        headers = auth(world.users["admin"])
        body = {"username": "v1", "password": "long-enough-pw", "role": "volunteer"}
        assert client.post("/api/v1/users", json=body, headers=headers).status_code == 422
        body["volunteer_id"] = world.volunteers["a2"].id  # type: ignore[assignment]
        assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201

    def test_duplicate_username_is_409(self, client: TestClient, world: World) -> None:
        taken = world.users["admin"].username
        body = {
            "username": taken,
            "password": "long-enough-pw",
            "role": "region_admin",
            "organization_id": world.users["admin"].organization_id,
        }
        assert client.post("/api/v1/users", json=body, headers=auth(world.users["admin"])).status_code == 409

    def test_list_users_paginates(self, client: TestClient, world: World) -> None:
        body = client.get("/api/v1/users", params={"limit": 3}, headers=auth(world.users["admin"])).json()
        assert body["total"] == len(world.users) and len(body["items"]) == 3

    def test_misbound_account_sees_nothing(self, client: TestClient, world: World, session: Session) -> None:
        """An account whose organization is of the wrong kind (made outside the API) gets an empty scope."""
        user = User(
            username="odd",
            display_name="odd",
            password_hash="x",
            role=Role.LEAGUE_OFFICE.value,
            organization_id=world.units["a1"].id,
        )
        session.add(user)
        session.commit()
        assert client.get("/api/v1/volunteers", headers=auth(user)).json()["total"] == 0


def test_cli_creates_account(world: World, session: Session) -> None:
    from service.cli import app

    office = orgs.county_office(session, LEAGUE_A, COUNTY_A1)
    session.commit()
    runner = CliRunner()
    args = ["users", "create", "huimin2", "--role", "county_office", "--org-id", str(office.id)]
    result = runner.invoke(app, args, env={"XIBU_NEW_USER_PASSWORD": "long-enough-pw"})
    assert result.exit_code == 0, result.output
    refused = runner.invoke(
        app,
        [*args[:2], "huimin3", "--role", "service_unit", "--org-id", str(office.id)],
        env={"XIBU_NEW_USER_PASSWORD": "long-enough-pw"},
    )
    assert refused.exit_code == 1
    assert "服务单位" in refused.output
