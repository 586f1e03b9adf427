"""Page tests through TestClient: log in with the form, post forms with the page's CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from storage.models import User
from tests.api.conftest import World, world
from tests.api.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def token_from(client: Any, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def login(client: Any, user: User, *, password: str = PASSWORD) -> Any:
    data = {"csrf_token": token_from(client, "/login"), "username": user.username, "password": password}
    return client.post("/login", data=data, follow_redirects=False)


def logged_in(client: Any, user: User) -> Any:
    r = login(client, user)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard", r.text
    return client


@pytest.fixture()
def new_client(engine: object) -> Iterator[Callable[[], Any]]:
    """A factory of separate browsers (each its own cookie jar) over one app."""
    from fastapi.testclient import TestClient

    from service.main import create_app

    app = create_app()
    made: list[Any] = []

    def make() -> Any:
        c = TestClient(app, raise_server_exceptions=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


__all__ = ["World", "csrf_of", "logged_in", "login", "token_from", "world"]
