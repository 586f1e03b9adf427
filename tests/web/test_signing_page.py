"""The signing page (no account) over a real agreement: page images, code, wrong code, decline, dead link."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from sqlmodel import Session, select

from service.config import get_settings
from storage.models import SigningRequest
from tests.agreements.conftest import create_via_api, latest_code, make_world, outbox, tokens
from tests.web.conftest import csrf_of


@pytest.fixture(autouse=True)
def _ready(pki_ready: object) -> None:
    shutil.rmtree(get_settings().outbox_dir, ignore_errors=True)


@pytest.fixture()
def county_link(client: Any, engine: Any) -> tuple[int, str]:
    """An agreement being signed and the county office's token (its turn first)."""
    created = create_via_api(client, make_world(engine, name="王小明"))
    return created["agreement"]["id"], tokens(created)["county_office"]


def test_the_page_shows_the_document_as_images_and_offers_the_pdf(
    client: Any, county_link: tuple[int, str]
) -> None:
    _, token = county_link
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "现在轮到您签署" in page.text and "服务县项目办" in page.text
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"
    pages = page.text.count(f'src="/s/{token}/pages/')
    assert pages >= 1
    image = client.get(f"/s/{token}/pages/1.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert client.get(f"/s/{token}/pages/{pages + 1}.png").status_code == 404
    pdf = client.get(f"/s/{token}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_a_code_is_sent_and_a_wrong_one_is_counted(
    client: Any, county_link: tuple[int, str], engine: Any
) -> None:
    doc_id, token = county_link
    page = client.get(f"/s/{token}")
    assert client.post(f"/s/{token}/code", data={}).status_code == 403, "no CSRF token, no code"
    assert not [m for m in outbox() if m["purpose"] == "code"]
    sent = client.post(f"/s/{token}/code", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/s/{token}?msg=code_sent"
    assert "验证码已发送" in client.get(sent.headers["location"]).text
    good = latest_code(doc_id, "county_office")
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    r = client.post(f"/s/{token}/sign", data={"csrf_token": csrf_of(page.text), "code": wrong})
    assert r.status_code == 400 and "验证码错误，还可尝试4次" in r.text and 'id="sign-form"' in r.text
    r = client.post(f"/s/{token}/sign", data={"csrf_token": csrf_of(page.text), "code": "12ab"})
    assert r.status_code == 400 and "6位数字" in r.text
    with Session(engine) as s:
        req = s.exec(select(SigningRequest).where(SigningRequest.party == "county_office")).one()
        assert req.code_attempts == 1 and req.status == "open", (
            "the wrong code counted, the malformed one did not"
        )


def test_declining_needs_a_reason_and_ends_the_signing(client: Any, county_link: tuple[int, str]) -> None:
    _, token = county_link
    csrf = csrf_of(client.get(f"/s/{token}").text)
    r = client.post(f"/s/{token}/decline", data={"csrf_token": csrf, "reason": "  "})
    assert r.status_code == 422 and "拒签必须说明原因" in r.text
    r = client.post(f"/s/{token}/decline", data={"csrf_token": csrf, "reason": "岗位与约定不符 <b>"})
    assert r.status_code == 200 and "已拒签" in r.text
    dead = client.get(f"/s/{token}")
    assert dead.status_code == 410 and "拒签" in dead.text and "text/html" in dead.headers["content-type"]
    assert {m["purpose"] for m in outbox()} >= {"declined"}


def test_an_unknown_link_is_a_page_saying_so(client: Any, engine: Any) -> None:
    r = client.get("/s/not-a-real-token-0123456789")
    assert r.status_code == 410 and "签署链接无效" in r.text and "<html" in r.text
