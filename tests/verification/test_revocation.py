"""Revocation and supersession by the offices: scope, the audit trail, and the public lookup at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from service.audit.service import verify_chain
from storage.archive import Archive
from storage.models import AuditEvent, Document
from tests.verification.conftest import admin_headers, county_headers, get_document, issue, lookup


def _events(engine: object, document_id: int) -> list[AuditEvent]:
    with Session(engine) as session:  # type: ignore[call-overload]
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(AuditEvent.seq)  # type: ignore[arg-type]
            ).all()
        )


def test_revoke_then_lookup_shows_revoked_with_reason_and_date(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate")
    assert lookup(client, doc.code).json()["status"] == "有效"  # now cached in this process
    headers = admin_headers(engine)
    r = client.post(
        f"/api/v1/documents/{doc.document_id}/revoke", json={"reason": "服务单位信息有误"}, headers=headers
    )
    assert r.status_code == 200 and r.json()["status"] == "revoked"

    s = lookup(client, doc.code).json()
    assert (s["status"], s["status_code"]) == ("已撤销", "revoked")
    assert s["revoked"]["reason"] == "服务单位信息有误"
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert datetime.fromisoformat(s["revoked"]["at"]).date() == today
    assert (
        "服务单位信息有误" in s["message"] and f"{today.year}年{today.month}月{today.day}日" in s["message"]
    )
    assert all(e["eligible"] is None for e in s["eligibility"])
    page = client.get(f"/v/{doc.code}")
    assert "已撤销" in page.text and "服务单位信息有误" in page.text

    (event,) = [e for e in _events(engine, doc.document_id) if e.event == "revoked"]
    assert event.detail == "原因：服务单位信息有误" and "（user" in event.actor and event.ip == "testclient"
    assert event.hash_after == get_document(engine, doc.document_id).current_sha256
    with Session(engine) as session:  # type: ignore[call-overload]
        assert verify_chain(session, doc.document_id) == []
    again = client.post(
        f"/api/v1/documents/{doc.document_id}/revoke", json={"reason": "再次"}, headers=headers
    )
    assert again.status_code == 409


def test_supersede_links_old_to_new_and_the_new_one_is_valid(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate")
    assert lookup(client, doc.code).json()["status"] == "有效"
    headers = admin_headers(engine)
    r = client.post(
        f"/api/v1/documents/{doc.document_id}/supersede", json={"reason": "更正服务单位名称"}, headers=headers
    )
    assert r.status_code == 201, r.text
    new = r.json()
    old_doc = get_document(engine, doc.document_id)
    assert new["number"] == f"{old_doc.number}（2）" and new["verification_code"] != doc.code

    old = lookup(client, doc.code).json()
    assert (old["status"], old["status_code"]) == ("已被新版本替代", "superseded")
    assert old["superseded"]["new_code"] == new["verification_code"]
    assert old["superseded"]["new_url"].endswith(f"/v/{new['verification_code']}")
    assert old["superseded"]["reason"] == "更正服务单位名称"
    fresh = lookup(client, new["verification_code"]).json()
    assert fresh["status"] == "有效" and fresh["document"]["number"] == new["number"]
    assert fresh["document"]["sha256"] != old["document"]["sha256"]
    page = client.get(f"/v/{doc.code}")
    assert f'href="/v/{new["verification_code"]}"' in page.text

    (event,) = [e for e in _events(engine, doc.document_id) if e.event == "superseded"]
    assert event.detail == f"由{new['number']}替代：更正服务单位名称"
    with Session(engine) as session:  # type: ignore[call-overload]
        assert verify_chain(session, doc.document_id) == []
    twice = client.post(
        f"/api/v1/documents/{doc.document_id}/supersede", json={"reason": "x"}, headers=headers
    )
    assert twice.status_code == 409
    blank = client.post(f"/api/v1/documents/{new['id']}/supersede", json={"reason": "  "}, headers=headers)
    assert blank.status_code == 422


def test_offices_change_only_what_they_may(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    notice = issue(engine, archive, converter, "notice", grades={})
    agreement = issue(engine, archive, converter, "agreement", name="包小明", grades={})
    county = county_headers(engine)
    other_county = county_headers(engine, "土默特左旗")

    # The region office's own sealed documents are its to revoke or supersede.
    for action in ("revoke", "supersede"):
        r = client.post(
            f"/api/v1/documents/{notice.document_id}/{action}", json={"reason": "x"}, headers=county
        )
        assert r.status_code == 403 and "自治区项目办" in r.json()["detail"]
    # Another county's documents do not exist for this office.
    r = client.post(
        f"/api/v1/documents/{agreement.document_id}/revoke", json={"reason": "x"}, headers=other_county
    )
    assert r.status_code == 404
    # Its own county's agreement (issued offline, not being signed) it may revoke.
    r = client.post(
        f"/api/v1/documents/{agreement.document_id}/revoke", json={"reason": "志愿者放弃服务"}, headers=county
    )
    assert r.status_code == 200, r.text
    assert lookup(client, agreement.code).json()["status"] == "已撤销"
    assert lookup(client, notice.code).json()["status"] == "有效"


def test_a_document_being_signed_is_voided_not_revoked(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "agreement", grades={})
    with Session(engine) as session:  # type: ignore[call-overload]
        row = session.get(Document, doc.document_id)
        assert row is not None
        row.signing_state = "pending"
        session.commit()
    headers = admin_headers(engine)
    revoke = client.post(f"/api/v1/documents/{doc.document_id}/revoke", json={"reason": "x"}, headers=headers)
    assert revoke.status_code == 409 and revoke.json()["code"] == "use_void"
    supersede = client.post(
        f"/api/v1/documents/{doc.document_id}/supersede", json={"reason": "x"}, headers=headers
    )
    assert supersede.status_code == 409 and supersede.json()["code"] == "use_reissue"
    assert lookup(client, doc.code).json()["status"] == "签署中"
