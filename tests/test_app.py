"""The application's front door and health check."""

from __future__ import annotations


def test_root_leads_to_the_api_documentation(client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/docs"
    assert client.get("/docs").status_code == 200


def test_health_check_touches_the_database(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
