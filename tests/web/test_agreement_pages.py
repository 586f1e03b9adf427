"""The office's agreement pages over real agreements: create, resend, void, supersede, sign from an account."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from sqlmodel import Session, select

from service.config import get_settings
from storage.models import Document, ServiceTerm, User, Volunteer
from tests.agreements.conftest import make_world
from tests.web.conftest import csrf_of, logged_in

_LINK = re.compile(r'id="link-(\w+)" class="mono link-url" readonly value="[^"]*/s/([^"]+)"')


@pytest.fixture(autouse=True)
def _ready(pki_ready: object) -> None:
    shutil.rmtree(get_settings().outbox_dir, ignore_errors=True)


def _user(engine: Any, role: str, organization_id: int | None = None) -> User:
    with Session(engine) as s:
        stmt = select(User).where(User.role == role)
        if organization_id is not None:
            stmt = stmt.where(User.organization_id == organization_id)
        return s.exec(stmt.order_by(User.id)).first()  # type: ignore[arg-type, return-value]


def _id_number(engine: Any, term_id: int) -> str:
    with Session(engine) as s:
        term = s.get(ServiceTerm, term_id)
        assert term is not None
        volunteer = s.get(Volunteer, term.volunteer_id)
        assert volunteer is not None
        return volunteer.id_number


def _create(client: Any, engine: Any, id_number: str, **fields: str) -> Any:
    page = client.get("/agreements/new")
    data = {"csrf_token": csrf_of(page.text), "cohort": "2020-2021", "id_number": id_number, "year": "1",
            "county_office": "county@wuchuan.example.cn", "unit": "unit@wuchuan.example.cn", **fields}  # fmt: skip
    return client.post("/agreements/new", data=data)


def test_an_office_creates_resends_voids_and_supersedes(client: Any, engine: Any) -> None:
    world = make_world(engine, name="赵六")
    logged_in(client, _user(engine, "region_admin"))
    created = _create(client, engine, _id_number(engine, world.term_id))
    assert created.status_code == 200 and "协议已创建" in created.text, created.text
    links = dict(_LINK.findall(created.text))
    assert list(links) == ["county_office"], "only the party whose turn it is has a link"
    assert "前序签署方签署后自动生成并发送" in created.text
    doc_id = int(re.search(r'href="/agreements/(\d+)">查看协议', created.text).group(1))  # type: ignore[union-attr]

    again = _create(client, engine, _id_number(engine, world.term_id))
    assert again.status_code == 409 and "已存在" in again.text

    detail = client.get(f"/agreements/{doc_id}")
    csrf = csrf_of(detail.text)
    resent = client.post(f"/agreements/{doc_id}/resend", data={"csrf_token": csrf, "party": "county_office"})
    assert resent.status_code == 200 and "已重新发送签署链接" in resent.text
    new_token = dict(_LINK.findall(resent.text))["county_office"]
    assert client.get(f"/s/{links['county_office']}").status_code == 410, "the old link died"
    assert client.get(f"/s/{new_token}").status_code == 200
    waiting = client.post(f"/agreements/{doc_id}/resend", data={"csrf_token": csrf, "party": "unit"})
    assert waiting.status_code == 409 and "尚未轮到" in waiting.text

    reissued = client.post(f"/agreements/{doc_id}/reissue", data={"csrf_token": csrf, "reason": "更正岗位"})
    assert reissued.status_code == 200 and "已重新签发，原协议已被替代" in reissued.text
    new_id = int(re.search(r'href="/agreements/(\d+)">查看协议', reissued.text).group(1))  # type: ignore[union-attr]
    with Session(engine) as s:
        old = s.get(Document, doc_id)
        assert old is not None and old.status == "superseded" and old.superseded_by_id == new_id
    old_page = client.get(f"/agreements/{doc_id}").text
    assert "已被新版本替代" in old_page and 'id="reissue-form"' not in old_page

    voided = client.post(f"/agreements/{new_id}/void", data={"csrf_token": csrf, "reason": "志愿者放弃服务"})
    assert voided.status_code == 200 and "协议已作废" in voided.text and "已撤销" in voided.text
    assert "志愿者放弃服务" in voided.text and 'id="void-form"' not in voided.text


def test_a_county_office_signs_from_its_account_in_turn(new_client: Any, engine: Any) -> None:
    world = make_world(engine, name="钱七")
    admin = logged_in(new_client(), _user(engine, "region_admin"))
    created = _create(admin, engine, _id_number(engine, world.term_id))
    doc_id = int(re.search(r'href="/agreements/(\d+)">查看协议', created.text).group(1))  # type: ignore[union-attr]

    unit = logged_in(new_client(), _user(engine, "service_unit", world.unit_id))
    page = unit.get(f"/agreements/{doc_id}")
    assert page.status_code == 200 and 'id="account-sign-form"' in page.text
    assert 'id="void-form"' not in page.text and 'id="resend-form"' not in page.text, "offices' actions only"
    early = unit.post(f"/agreements/{doc_id}/sign", data={"csrf_token": csrf_of(page.text)})
    assert early.status_code == 409 and "尚未轮到您签署" in early.text

    county = logged_in(new_client(), _user(engine, "county_office", world.county_office_id))
    page = county.get(f"/agreements/{doc_id}")
    signed = county.post(f"/agreements/{doc_id}/sign", data={"csrf_token": csrf_of(page.text)})
    assert signed.status_code == 200 and "已以本单位身份签署" in signed.text
    assert signed.text.count(">已签署<") == 1

    outsider = logged_in(new_client(), _user_other_county(engine, world.county_office_id))
    assert outsider.get(f"/agreements/{doc_id}").status_code == 404
    refused = outsider.post(
        f"/agreements/{doc_id}/sign", data={"csrf_token": csrf_of(outsider.get("/agreements").text)}
    )
    assert refused.status_code in (403, 404)


def _user_other_county(engine: Any, county_office_id: int) -> User:
    with Session(engine) as s:
        return s.exec(  # type: ignore[return-value]
            select(User).where(User.role == "county_office", User.organization_id != county_office_id)
        ).first()
