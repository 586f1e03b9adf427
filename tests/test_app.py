"""The application's front door and health check."""

from __future__ import annotations


def test_root_is_the_login_page_and_the_api_documentation_stays(client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200 and 'action="/login"' in response.text
    assert client.get("/docs").status_code == 200


def test_health_check_touches_the_database(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
