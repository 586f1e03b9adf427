"""退出 ends the session on the server: a copy of the cookie taken before it is refused afterwards."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlmodel import Session, col, select

from service.web.revocation import CLOCK_MARGIN, end_session
from service.web.session import COOKIE, LIFETIME, decode, encode
from storage.models import Appraisal, EndedSession
from tests.web.conftest import World, csrf_of, logged_in

_LOGIN_AGAIN = "/login?next=%2Fdashboard"


def _cookies_set(response: Any) -> list[str]:
    """The session cookie values the response sets (none when it leaves the browser's alone)."""
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    return [h.split(";")[0].split("=", 1)[1] for h in headers if h.startswith(f"{COOKIE}=")]


def _payload(cookie_value: str) -> dict[str, Any]:
    body = cookie_value.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _logout(client: Any) -> None:
    r = client.post(
        "/logout", data={"csrf_token": csrf_of(client.get("/dashboard").text)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"


def _aged(cookie_value: str, secret: str, *, left: timedelta) -> str:
    """The same session with only ``left`` of its life remaining, as after hours of work."""
    session = decode(cookie_value, secret)
    assert session is not None
    return encode(
        session.__class__(session.user_id, session.sid, session.csrf, datetime.now(UTC) + left), secret
    )


def _grade_form(world: World, csrf: str) -> dict[str, str]:
    term = world.terms["a1"].id
    return {
        "csrf_token": csrf,
        "cohort": "2020-2021",
        "year": "1",
        "county": "回民区",
        f"grade-{term}": "合格",
        f"was-{term}": "",
    }


class TestLogoutEndsEveryCopy:
    def test_a_copy_taken_before_logout_opens_no_page_after_it(self, new_client: Any, world: World) -> None:
        victim, thief = new_client(), new_client()
        logged_in(victim, world.users["county_a1"])
        thief.cookies.set(COOKIE, victim.cookies[COOKIE])
        assert thief.get("/dashboard").status_code == 200, "the copy works while the session lasts"
        _logout(victim)
        r = thief.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == _LOGIN_AGAIN
        # Like an expired cookie: the holder is handed a visitor's session, not the ended one back.
        (replacement,) = _cookies_set(r)
        assert "sub" not in _payload(replacement)

    def test_a_copy_taken_before_logout_cannot_post_a_form(
        self, new_client: Any, world: World, engine: Any
    ) -> None:
        victim, thief = new_client(), new_client()
        logged_in(victim, world.users["county_a1"])
        stolen = victim.cookies[COOKIE]
        form = _grade_form(world, csrf_of(victim.get("/appraisals").text))
        _logout(victim)
        thief.cookies.set(COOKIE, stolen)
        r = thief.post("/appraisals", data=form, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        with Session(engine) as s:
            assert s.exec(select(Appraisal)).all() == []

    def test_a_copy_taken_before_logout_reads_nothing_from_the_api(
        self, new_client: Any, world: World
    ) -> None:
        victim, thief = new_client(), new_client()
        logged_in(victim, world.users["county_a1"])
        thief.cookies.set(COOKIE, victim.cookies[COOKIE])
        assert thief.get("/api/v1/auth/me").status_code == 200
        _logout(victim)
        assert thief.get("/api/v1/auth/me").status_code == 401

    def test_logging_out_one_session_leaves_the_users_other_session_alone(
        self, new_client: Any, world: World
    ) -> None:
        office, home = new_client(), new_client()
        logged_in(office, world.users["county_a1"])
        logged_in(home, world.users["county_a1"])
        assert _payload(office.cookies[COOKIE])["sid"] != _payload(home.cookies[COOKIE])["sid"]
        _logout(office)
        assert office.get("/dashboard", follow_redirects=False).status_code == 303
        assert home.get("/dashboard", follow_redirects=False).status_code == 200

    def test_logging_out_twice_with_the_same_cookie_is_no_error(self, client: Any, world: World) -> None:
        logged_in(client, world.users["county_a1"])
        stolen = client.cookies[COOKIE]
        _logout(client)
        client.cookies.set(COOKIE, stolen)
        again = client.post("/logout", data={"csrf_token": _payload(stolen)["csrf"]}, follow_redirects=False)
        assert again.status_code == 303 and again.headers["location"] == "/login"

    def test_logging_in_over_a_session_ends_the_one_it_replaces(self, new_client: Any, world: World) -> None:
        shared, thief = new_client(), new_client()
        logged_in(shared, world.users["county_a1"])
        thief.cookies.set(COOKIE, shared.cookies[COOKIE])
        data = {
            "csrf_token": csrf_of(shared.get("/dashboard").text),
            "username": world.users["admin"].username,
            "password": "correct-horse-battery",
        }
        assert shared.post("/login", data=data, follow_redirects=False).status_code == 303
        assert thief.get("/dashboard", follow_redirects=False).headers["location"] == _LOGIN_AGAIN


class TestRefresh:
    def test_the_sid_survives_a_refresh_and_logout_ends_the_refreshed_copy_too(
        self, new_client: Any, world: World, settings: Any
    ) -> None:
        victim, thief = new_client(), new_client()
        logged_in(victim, world.users["county_a1"])
        before = _aged(victim.cookies[COOKIE], settings.secret_key, left=LIFETIME / 2 - timedelta(minutes=1))
        thief.cookies.set(COOKIE, before)
        victim.cookies.set(COOKIE, before)
        r = victim.get("/dashboard")
        assert r.status_code == 200
        (after,) = _cookies_set(r)
        old, new = _payload(before), _payload(after)
        assert new["sid"] == old["sid"] and new["sub"] == old["sub"] and new["csrf"] == old["csrf"]
        assert new["exp"] > old["exp"] + 3600
        _logout(victim)
        assert thief.get("/dashboard", follow_redirects=False).headers["location"] == _LOGIN_AGAIN
        thief.cookies.set(COOKIE, after)
        assert thief.get("/dashboard", follow_redirects=False).headers["location"] == _LOGIN_AGAIN

    def test_an_ended_session_is_never_refreshed_so_it_cannot_outlive_its_record(
        self, new_client: Any, world: World, settings: Any
    ) -> None:
        victim, thief = new_client(), new_client()
        logged_in(victim, world.users["county_a1"])
        sid = _payload(victim.cookies[COOKIE])["sid"]
        stolen = _aged(victim.cookies[COOKIE], settings.secret_key, left=timedelta(minutes=30))
        _logout(victim)
        # A page that never asks who is logged in (a signing link) must not extend it either.
        for path in ["/s/no-such-link", "/v", "/login"]:
            thief.cookies.set(COOKIE, stolen)
            issued = _cookies_set(thief.get(path))
            assert all(_payload(c)["sid"] != sid for c in issued), path


class TestForgedCookies:
    def test_a_tampered_sid_is_refused(self, client: Any, world: World) -> None:
        logged_in(client, world.users["county_a1"])
        head, _body, sig = client.cookies[COOKIE].split(".")
        forged = _payload(client.cookies[COOKIE]) | {"sid": "A" * 22}
        raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
        client.cookies.set(COOKIE, f"{head}.{raw}.{sig}")
        r = client.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == _LOGIN_AGAIN

    def test_a_cookie_from_before_sessions_had_an_id_is_logged_out(
        self, client: Any, world: World, settings: Any
    ) -> None:
        """Signed with our key and unexpired, but it could never be ended, so it is not honoured."""
        logged_in(client, world.users["county_a1"])
        legacy = {k: v for k, v in _payload(client.cookies[COOKIE]).items() if k != "sid"}
        client.cookies.set(COOKIE, jwt.encode(legacy, settings.secret_key, algorithm="HS256"))
        r = client.get("/dashboard", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == _LOGIN_AGAIN
        assert client.get("/api/v1/auth/me").status_code == 401


class TestEndedRows:
    def test_a_row_outlives_every_cookie_of_its_session_then_is_purged_by_the_next_logout(
        self, engine: Any
    ) -> None:
        now = datetime.now(UTC)
        long_ago, recent = now - LIFETIME - CLOCK_MARGIN - timedelta(minutes=1), now - timedelta(hours=1)
        with Session(engine) as db:
            end_session(db, "s-long-ago-000000000000", now=long_ago)
            end_session(db, "s-recent-00000000000000", now=recent)
            db.commit()
            row = db.get(EndedSession, "s-recent-00000000000000")
            assert row is not None
            # The latest cookie of the session was refreshed at most at the logout: LIFETIME later.
            assert row.expires.replace(tzinfo=UTC) >= recent + LIFETIME
        with Session(engine) as db:
            end_session(db, "s-now-00000000000000000", now=now)
            db.commit()
            left = db.exec(select(EndedSession.sid).order_by(col(EndedSession.sid))).all()
        assert left == ["s-now-00000000000000000", "s-recent-00000000000000"]
