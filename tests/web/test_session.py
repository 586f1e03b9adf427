"""The browser session: cookie flags, what the cookie holds, log-in and log-out, CSRF on every form."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlmodel import Session, select

from service.web.session import COOKIE
from storage.models import Appraisal, User
from tests.web.conftest import World, csrf_of, logged_in, login, token_from


def _set_cookie(response: Any) -> str:
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    (cookie,) = [h for h in headers if h.startswith(f"{COOKIE}=")]
    return cookie


def _payload(cookie_value: str) -> dict[str, Any]:
    body = cookie_value.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


class TestCookie:
    def test_a_visitor_gets_an_httponly_samesite_cookie_without_secure_over_http(self, client: Any) -> None:
        flags = [f.strip().lower() for f in _set_cookie(client.get("/login")).split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags

    def test_the_cookie_is_secure_when_the_site_is_served_over_https(
        self, client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(settings, "public_url", "https://docs.example.cn")
        flags = [f.strip().lower() for f in _set_cookie(client.get("/login")).split(";")]
        assert "secure" in flags and "httponly" in flags

    def test_the_cookie_holds_the_user_id_a_session_id_a_csrf_token_and_an_expiry_only(
        self, client: Any, world: World
    ) -> None:
        r = login(client, world.users["county_a1"])
        payload = _payload(_set_cookie(r).split(";")[0].split("=", 1)[1])
        assert set(payload) == {"typ", "sub", "sid", "csrf", "exp"}
        assert payload["sub"] == str(world.users["county_a1"].id)

    def test_a_tampered_cookie_makes_a_visitor(self, client: Any, world: World) -> None:
        logged_in(client, world.users["county_a1"])
        head, _body, sig = client.cookies[COOKIE].split(".")
        forged = _payload(client.cookies[COOKIE]) | {"sub": str(world.users["admin"].id)}
        raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        client.cookies.set(COOKIE, f"{head}.{raw}.{sig}")
        r = client.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")

    def test_security_headers_forbid_framing_and_foreign_scripts(self, client: Any) -> None:
        r = client.get("/login")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


class TestLogin:
    def test_login_rotates_the_csrf_token_and_logout_ends_the_session(
        self, client: Any, world: World
    ) -> None:
        before = token_from(client, "/login")
        logged_in(client, world.users["county_a1"])
        page = client.get("/dashboard")
        assert page.status_code == 200 and "工作台" in page.text
        after = csrf_of(page.text)
        assert after != before
        out = client.post("/logout", data={"csrf_token": after}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/login"
        r = client.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fdashboard"

    @pytest.mark.parametrize("username", ["known", "unknown"])
    def test_a_wrong_password_or_unknown_user_gets_the_same_answer(
        self, client: Any, world: World, username: str
    ) -> None:
        user = world.users["county_a1"]
        if username == "unknown":
            user = User(username="nobody-here", display_name="x", password_hash="", role="county_office")
        r = login(client, user, password="wrong-password-1")
        assert r.status_code == 401 and "用户名或密码错误" in r.text
        assert client.get("/dashboard", follow_redirects=False).status_code == 303

    @pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
    def test_next_never_leaves_the_site(self, client: Any, world: World, target: str) -> None:
        user = world.users["county_a1"]
        data = {"csrf_token": token_from(client, "/login"), "username": user.username, "next": target}
        r = client.post("/login", data=data | {"password": "correct-horse-battery"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"

    def test_the_front_door_is_the_login_form_then_the_dashboard(self, client: Any, world: World) -> None:
        r = client.get("/")
        assert r.status_code == 200 and 'action="/login"' in r.text
        logged_in(client, world.users["admin"])
        r = client.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"

    def test_the_api_reads_with_the_cookie_but_never_writes_with_it(self, client: Any, world: World) -> None:
        logged_in(client, world.users["county_a1"])
        me = client.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["username"] == world.users["county_a1"].username
        body = {"term_id": world.terms["a1"].id, "service_year": 1, "grade": "合格"}
        assert client.post("/api/v1/appraisals", json=body).status_code == 401


class TestCsrf:
    def test_a_form_without_the_token_is_refused(self, client: Any, world: World) -> None:
        user = world.users["county_a1"]
        r = client.post("/login", data={"username": user.username, "password": "correct-horse-battery"})
        assert r.status_code == 403 and "页面已过期" in r.text and "text/html" in r.headers["content-type"]
        assert client.get("/dashboard", follow_redirects=False).status_code == 303

    def test_another_visitors_token_is_refused(self, new_client: Any, world: World) -> None:
        attacker, victim = new_client(), new_client()
        stolen = token_from(attacker, "/login")
        logged_in(victim, world.users["county_a1"])
        r = victim.post("/logout", data={"csrf_token": stolen})
        assert r.status_code == 403
        assert victim.get("/dashboard").status_code == 200, "still logged in"

    def test_a_forged_grade_submission_writes_nothing(self, client: Any, world: World, engine: Any) -> None:
        logged_in(client, world.users["county_a1"])
        term = world.terms["a1"].id
        data = {
            "cohort": "2020-2021",
            "year": "1",
            "county": "回民区",
            f"grade-{term}": "合格",
            f"was-{term}": "",
        }
        r = client.post("/appraisals", data=data)
        assert r.status_code == 403
        data["csrf_token"] = csrf_of(client.get("/appraisals").text)
        r = client.post("/appraisals", data=data, follow_redirects=False)
        assert r.status_code == 303, r.text
        with Session(engine) as s:
            assert [a.term_id for a in s.exec(select(Appraisal)).all()] == [term]
