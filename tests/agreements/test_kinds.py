"""年度考核表 and 服务鉴定表 signed in order over the API, like the agreement: links sent only when a
party's turn comes, codes from the outbox, real signatures, account signing within scope."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from service.pki.service import trust
from signing import validate_pdf
from tests.agreements.conftest import (
    REGION_MAIL,
    World,
    create_via_api,
    make_world,
    outbox,
    record_grade,
    sent_link,
    sign_by_link,
    tokens,
)

DOCS = "/api/v1/signing-documents"
APPRAISAL_ORDER = ["volunteer", "unit", "county_office"]
EVALUATION_ORDER = ["volunteer", "unit", "county_office", "region_office"]


def _messages(document_id: int) -> list[tuple[str, str]]:
    """(party, purpose) of every message about the document, codes left out, in the order sent."""
    return [
        (m["party"], m["purpose"])
        for m in outbox()
        if m["document_id"] == document_id and m["purpose"] != "code"
    ]


def _sign_in_order(client: Any, doc_id: int, order: list[str]) -> None:
    """Each party signs with the link the outbox sent it and the code it asks for; after each
    signature exactly the next party (and nobody else) has been sent a link."""
    for i, party in enumerate(order):
        before = _messages(doc_id)
        signed = sign_by_link(client, doc_id, party, sent_link(doc_id, party))
        assert signed.status_code == 200, signed.text
        new = _messages(doc_id)[len(before) :]
        if i + 1 < len(order):
            assert new == [(order[i + 1], "link")], new
            assert signed.json()["turn"] == order[i + 1]
        else:
            assert sorted(new) == sorted((p, "completed") for p in order), new
            assert signed.json()["signing_state"] == "completed"


def _valid_pdf(client: Any, world: World, doc_id: int, order: list[str]) -> None:
    pdf = client.get(f"{DOCS}/{doc_id}/pdf", headers=world.admin)
    assert pdf.status_code == 200
    status = validate_pdf(pdf.content, trust())
    assert status.ok, status
    assert [s.field_name for s in status.signatures] == [f"sig_{p}" for p in order]
    assert all(s.intact and s.valid and s.modifications_ok for s in status.signatures), status
    assert status.doc_timestamps == 1


class TestAppraisal:
    def test_full_ordered_signing_with_links_sent_in_turn(self, client: Any, world: World) -> None:
        body = {"cohort": "2020-2021", "kind": "appraisal", "year": 1, "term_id": world.term_id}
        early = client.post(DOCS, json=body, headers=world.admin)
        assert early.status_code == 409 and early.json()["code"] == "appraisal_not_graded"
        assert "第1服务年的年度考核等次尚未记录" in early.json()["detail"]
        record_grade(client, world)

        created = create_via_api(client, world, path=DOCS, kind="appraisal", year=1)
        doc = created["agreement"]
        doc_id = doc["id"]
        assert (doc["kind"], doc["title"], doc["service_year"]) == ("appraisal", "年度考核表", 1)
        assert [p["party"] for p in doc["parties"]] == APPRAISAL_ORDER
        assert [p["status"] for p in doc["parties"]] == ["open", "waiting", "waiting"]
        assert list(tokens(created)) == ["volunteer"]
        assert created["warnings"] == []
        assert _messages(doc_id) == [("volunteer", "link")], "only the first party hears of it"
        assert next(m for m in outbox() if m["purpose"] == "link")["to"] == world.volunteer_email

        # The county office tries from its account before its turn: refused, and nothing changes.
        early_sign = client.post(f"{DOCS}/{doc_id}/sign", headers=world.county_user)
        assert early_sign.status_code == 409 and early_sign.json()["code"] == "out_of_order"
        assert "尚未轮到您签署" in early_sign.json()["detail"]
        early_resend = client.post(
            f"{DOCS}/{doc_id}/resend", json={"party": "county_office"}, headers=world.admin
        )
        assert early_resend.status_code == 409 and early_resend.json()["code"] == "not_turn_yet"

        _sign_in_order(client, doc_id, APPRAISAL_ORDER)
        _valid_pdf(client, world, doc_id, APPRAISAL_ORDER)
        listed = client.get(f"{DOCS}?kind=appraisal&state=completed", headers=world.county_user).json()
        assert [d["id"] for d in listed] == [doc_id]
        assert client.get("/api/v1/agreements", headers=world.admin).json() == [], "agreements only there"

    def test_resend_gives_the_party_whose_turn_it_is_a_new_link(self, client: Any, world: World) -> None:
        record_grade(client, world)
        created = create_via_api(client, world, path=DOCS, kind="appraisal")
        doc_id = created["agreement"]["id"]
        assert sign_by_link(client, doc_id, "volunteer", tokens(created)["volunteer"]).status_code == 200
        old = sent_link(doc_id, "unit")
        r = client.post(f"{DOCS}/{doc_id}/resend", json={"party": "unit"}, headers=world.county_user)
        assert r.status_code == 200, r.text
        assert r.json()["token"] != old and sent_link(doc_id, "unit") == r.json()["token"]
        dead = client.get(f"/api/v1/signing/{old}")
        assert dead.status_code == 410 and "已被新链接替代" in dead.json()["detail"]
        assert sign_by_link(client, doc_id, "unit", r.json()["token"]).status_code == 200

    def test_a_year_beyond_the_agreed_service_is_refused(self, client: Any, world: World) -> None:
        body = {"cohort": "2020-2021", "kind": "appraisal", "year": 2, "term_id": world.term_id}
        r = client.post(DOCS, json=body, headers=world.admin)
        assert r.status_code == 409 and r.json()["code"] == "year_out_of_range"


class TestEvaluation:
    def test_four_parties_sign_in_order_and_the_region_office_last(self, client: Any, world: World) -> None:
        record_grade(client, world)
        created = create_via_api(client, world, path=DOCS, kind="evaluation")
        doc = created["agreement"]
        assert (doc["kind"], doc["service_year"]) == ("evaluation", None)
        assert [p["party"] for p in doc["parties"]] == EVALUATION_ORDER
        assert _messages(doc["id"]) == [("volunteer", "link")]
        _sign_in_order(client, doc["id"], EVALUATION_ORDER)
        assert next(m for m in outbox() if m["party"] == "region_office")["to"] == REGION_MAIL
        _valid_pdf(client, world, doc["id"], EVALUATION_ORDER)

    def test_not_before_the_service_ends_nor_with_a_year_unappraised(
        self, client: Any, engine: object
    ) -> None:
        serving = make_world(engine, name="李四", report_date=date.today() - timedelta(days=100))
        body = {"cohort": "2020-2021", "kind": "evaluation", "term_id": serving.term_id}
        r = client.post(DOCS, json=body, headers=serving.admin)
        assert r.status_code == 409 and r.json()["code"] == "service_not_ended", r.text
        assert "届满之日起才能发送服务鉴定表" in r.json()["detail"]

    def test_a_cohort_run_skips_who_is_not_ready_and_says_why(self, client: Any, world: World) -> None:
        body = {"cohort": "2020-2021", "kind": "evaluation"}
        r = client.post(DOCS, json=body, headers=world.admin)
        assert r.status_code == 201 and r.json()["created"] == []
        (skipped,) = r.json()["skipped"]
        assert skipped["code"] == "appraisal_missing" and "第1年尚未记录年度考核" in skipped["reason"]


class TestAccountSigning:
    def test_organizations_find_their_turn_in_the_inbox_and_sign_within_scope(
        self, client: Any, world: World
    ) -> None:
        record_grade(client, world)
        created = create_via_api(client, world, path=DOCS, kind="appraisal")
        doc_id = created["agreement"]["id"]
        inbox = f"{DOCS}/inbox"
        assert client.get(inbox, headers=world.unit_user).json() == [], "not the unit's turn yet"
        assert sign_by_link(client, doc_id, "volunteer", tokens(created)["volunteer"]).status_code == 200

        assert [d["id"] for d in client.get(inbox, headers=world.unit_user).json()] == [doc_id]
        assert client.get(inbox, headers=world.other_unit_user).json() == []
        foreign = client.post(f"{DOCS}/{doc_id}/sign", headers=world.other_unit_user)
        assert foreign.status_code == 403 and "只能以本单位身份签署" in foreign.json()["detail"]
        missing = client.post(f"{DOCS}/999999/sign", headers=world.other_unit_user)
        assert missing.status_code == 403 and missing.json() == {**foreign.json()}, "no probing"
        other_county = client.post(f"{DOCS}/{doc_id}/sign", headers=world.other_county_user)
        assert other_county.status_code == 403

        mine = client.post(f"{DOCS}/{doc_id}/sign", headers=world.unit_user)
        assert mine.status_code == 200 and mine.json()["turn"] == "county_office"
        assert client.get(inbox, headers=world.unit_user).json() == []
        assert [d["id"] for d in client.get(inbox, headers=world.county_user).json()] == [doc_id]
        done = client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.county_user)  # the older path
        assert done.status_code == 200 and done.json()["signing_state"] == "completed"
        detail = client.get(f"{DOCS}/{doc_id}", headers=world.admin).json()
        signed = [e["actor"] for e in detail["audit"] if e["event"] == "signed"]
        assert signed[0] == "签署链接持有人" and all("（user" in a for a in signed[1:]), (
            "who signed is recorded"
        )
        _valid_pdf(client, world, doc_id, APPRAISAL_ORDER)

    def test_a_volunteer_account_signs_nothing(self, client: Any, world: World) -> None:
        from sqlmodel import Session

        from storage.db import get_engine
        from storage.models import Role
        from tests.api.factories import auth, create_login

        with Session(get_engine()) as session:
            user = create_login(session, Role.VOLUNTEER)
            session.commit()
            headers = auth(user)
        assert client.get(f"{DOCS}/inbox", headers=headers).status_code == 403


class TestMissingRecipients:
    def test_reported_at_creation_and_the_organization_signs_from_its_account(
        self, client: Any, world: World
    ) -> None:
        """No address for the county and region offices: the office is told at once, in Chinese,
        nothing is sent to them, and they sign from their accounts when their turn comes."""
        record_grade(client, world)
        body = {
            "cohort": "2020-2021",
            "kind": "evaluation",
            "term_id": world.term_id,
            "recipients": {"unit": "hr@unit.cn"},
        }
        r = client.post(DOCS, json=body, headers=world.admin)
        assert r.status_code == 201, r.text
        created = r.json()["created"][0]
        doc_id = created["agreement"]["id"]
        by_party = {x["party"]: x for x in created["links"]}
        assert (
            by_party["county_office"]["recipient"] is None and by_party["region_office"]["recipient"] is None
        )
        warnings = {w["party"]: w for w in created["warnings"]}
        assert set(warnings) == {"county_office", "region_office"}
        assert warnings["county_office"]["organization"] == "武川县西部计划项目办"
        assert warnings["region_office"]["organization"] == "内蒙古自治区西部计划项目办"
        assert "服务县项目办“武川县西部计划项目办”没有登记" in warnings["county_office"]["message"]
        assert "登录账号签署" in warnings["region_office"]["message"]
        parties = {p["party"]: p["has_recipient"] for p in created["agreement"]["parties"]}
        assert parties == {"volunteer": True, "unit": True, "county_office": False, "region_office": False}
        detail = client.get(f"{DOCS}/{doc_id}", headers=world.admin).json()
        assert (
            "未登记联系方式：服务县项目办（武川县西部计划项目办）、自治区项目办"
            in detail["audit"][0]["detail"]
        )

        assert sign_by_link(client, doc_id, "volunteer", tokens(created)["volunteer"]).status_code == 200
        assert sign_by_link(client, doc_id, "unit", sent_link(doc_id, "unit")).status_code == 200
        assert _messages(doc_id) == [("volunteer", "link"), ("unit", "link")], (
            "nobody to send the county's to"
        )
        assert client.post(f"{DOCS}/{doc_id}/sign", headers=world.county_user).status_code == 200
        done = client.post(f"{DOCS}/{doc_id}/sign", headers=world.admin)
        assert done.status_code == 200 and done.json()["signing_state"] == "completed"
        completed = [p for p, purpose in _messages(doc_id) if purpose == "completed"]
        assert sorted(completed) == ["unit", "volunteer"]
        _valid_pdf(client, world, doc_id, EVALUATION_ORDER)
