"""The three-party agreement signed in order over the API: links, codes from the outbox, refusals."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from service.agreements.links import hash_token
from service.audit.service import verify_chain
from service.pki.service import trust
from signing import validate_pdf
from storage.models import AuditEvent, Document, DocumentRevision, SigningRequest
from tests.agreements.conftest import (
    COUNTY_MAIL,
    UNIT_MAIL,
    World,
    create_via_api,
    latest_code,
    outbox,
    sent_link,
    sign_by_link,
    tokens,
)

ORDER = ["county_office", "unit", "volunteer"]


class TestHappyPath:
    def test_county_then_unit_then_volunteer_gives_a_valid_lta_pdf(
        self, client: Any, world: World, engine: object, tmp_path: Path
    ) -> None:
        created = create_via_api(client, world)
        doc_id = created["agreement"]["id"]
        assert [p["party"] for p in created["agreement"]["parties"]] == ORDER
        assert [p["status"] for p in created["agreement"]["parties"]] == ["open", "waiting", "waiting"]
        links = tokens(created)
        assert list(links) == ["county_office"], "later parties get their link when their turn comes"
        assert all(len(t) >= 43 for t in links.values()), "≥ 256-bit tokens"
        first = created["links"][0]
        assert first["url"].endswith(f"/s/{first['token']}")
        sent_links = {m["party"]: m["to"] for m in outbox() if m["purpose"] == "link"}
        assert sent_links == {"county_office": COUNTY_MAIL}

        for i, party in enumerate(ORDER):
            links[party] = sent_link(doc_id, party)
            page = client.get(f"/api/v1/signing/{links[party]}", headers={"User-Agent": "pytest-phone"})
            assert page.status_code == 200, page.text
            assert page.json()["turn"] == party and page.json()["party"] == party
            assert base64.b64decode(page.json()["pdf_base64"]).startswith(b"%PDF")
            signed = sign_by_link(client, doc_id, party, links[party])
            assert signed.status_code == 200, signed.text
            assert signed.json()["turn"] == (ORDER[i + 1] if i < 2 else None)

        detail = client.get(f"/api/v1/agreements/{doc_id}", headers=world.admin).json()
        assert detail["signing_state"] == "completed" and detail["version"] == 4
        assert [p["status"] for p in detail["parties"]] == ["signed"] * 3
        events = [e["event"] for e in detail["audit"]]
        assert events.count("signed") == 3 and events[-1] == "completed" and "viewed" in events
        assert "code_sent" in events
        viewed = next(e for e in detail["audit"] if e["event"] == "viewed")
        assert viewed["ip"] == "testclient"

        pdf = client.get(f"/api/v1/agreements/{doc_id}/pdf", headers=world.admin)
        assert pdf.status_code == 200
        status = validate_pdf(pdf.content, trust())
        assert status.ok, status
        assert [s.field_name for s in status.signatures] == ["sig_county_office", "sig_unit", "sig_volunteer"]
        assert status.doc_timestamps == 1
        f = tmp_path / "agreement.pdf"
        f.write_bytes(pdf.content)
        out = subprocess.run(["pdfsig", "-nocert", str(f)], capture_output=True, text=True, timeout=60).stdout
        assert out.count("Signature Validation: Signature is Valid.") == 3, out

        with Session(engine) as session:  # type: ignore[call-overload]
            doc = session.get(Document, doc_id)
            assert (
                doc is not None
                and doc.current_sha256 == __import__("hashlib").sha256(pdf.content).hexdigest()
            )
            reasons = [r.reason for r in session.exec(
                select(DocumentRevision).where(DocumentRevision.document_id == doc_id).order_by(DocumentRevision.seq)
            )]  # fmt: skip
            assert reasons == [
                "rendered",
                "signed:county_office",
                "signed:unit",
                "signed:volunteer",
                "timestamped",
            ]
            assert verify_chain(session, doc_id) == []
            stored = session.exec(select(SigningRequest.token_hash)).all()
            assert not set(links.values()) & set(stored), "only hashes are stored"

        # A used link is dead, and the outbox told everyone it is done.
        again = client.post(f"/api/v1/signing/{links['volunteer']}/sign", json={"code": "123456"})
        assert again.status_code == 410 and "完成签署" in again.json()["detail"]
        assert {m["party"] for m in outbox() if m["purpose"] == "completed"} == set(ORDER)
        assert {m["party"]: m["to"] for m in outbox() if m["purpose"] == "link"} == {
            "county_office": COUNTY_MAIL, "unit": UNIT_MAIL, "volunteer": world.volunteer_email,
        }  # fmt: skip

        # Completion queued the signed 签署报告 as a job; a worker builds it into the audit chain.
        from service.audit.tasks import attach_signing_report
        from service.jobs import queue

        assert any(t.name == "audit.attach_report" and t.args == (doc_id,) for t in queue().pending())
        report_key = attach_signing_report.call_local(doc_id)
        with Session(engine) as session:  # type: ignore[call-overload]
            last = session.exec(
                select(AuditEvent).where(AuditEvent.document_id == doc_id).order_by(AuditEvent.seq.desc())  # type: ignore[attr-defined]
            ).first()
            assert last is not None and (last.event, last.hash_after) == ("reported", report_key)
            assert verify_chain(session, doc_id) == []


class TestRefusals:
    def test_out_of_order_is_409(self, client: Any, world: World, engine: object) -> None:
        """Nobody holds a link out of turn any more, but a link minted before this change may
        still be out there: it is refused the same way."""
        doc_id = create_via_api(client, world)["agreement"]["id"]
        early_token = "legacy-link-of-the-unit-0123456789abcdefghijk"
        _set_request(engine, doc_id, "unit", token_hash=hash_token(early_token))
        early = client.post(f"/api/v1/signing/{early_token}/code")
        assert early.status_code == 409 and "尚未轮到您签署" in early.json()["detail"]
        early = client.post(f"/api/v1/signing/{early_token}/sign", json={"code": "000000"})
        assert early.status_code == 409 and early.json()["code"] == "out_of_order"

    def test_five_wrong_codes_lock_the_request(self, client: Any, world: World, engine: object) -> None:
        created = create_via_api(client, world)
        doc_id, token = created["agreement"]["id"], tokens(created)["county_office"]
        assert client.post(f"/api/v1/signing/{token}/code").status_code == 202
        good = latest_code(doc_id, "county_office")
        wrong = f"{(int(good) + 1) % 1_000_000:06d}"
        lefts = []
        for _ in range(4):
            r = client.post(f"/api/v1/signing/{token}/sign", json={"code": wrong})
            assert r.status_code == 400, r.text
            lefts.append(r.json()["attempts_left"])
        assert lefts == [4, 3, 2, 1]
        fifth = client.post(f"/api/v1/signing/{token}/sign", json={"code": wrong})
        assert fifth.status_code == 423 and "锁定" in fifth.json()["detail"]
        even_good = client.post(f"/api/v1/signing/{token}/sign", json={"code": good})
        assert even_good.status_code == 423
        assert client.post(f"/api/v1/signing/{token}/code").status_code == 423
        with Session(engine) as session:  # type: ignore[call-overload]
            req = session.exec(select(SigningRequest).where(SigningRequest.document_id == doc_id)).first()
            assert req is not None and req.locked_until is not None and req.status == "open"

    def test_code_resend_is_rate_limited(self, client: Any, world: World) -> None:
        token = tokens(create_via_api(client, world))["county_office"]
        assert client.post(f"/api/v1/signing/{token}/code").status_code == 202
        again = client.post(f"/api/v1/signing/{token}/code")
        assert again.status_code == 429 and "秒后再试" in again.json()["detail"]

    def test_expired_code_and_expired_link(self, client: Any, world: World, engine: object) -> None:
        created = create_via_api(client, world)
        doc_id, token = created["agreement"]["id"], tokens(created)["county_office"]
        assert client.post(f"/api/v1/signing/{token}/code").status_code == 202
        code = latest_code(doc_id, "county_office")
        past = datetime.now(UTC) - timedelta(minutes=1)
        _set_request(engine, doc_id, "county_office", code_expires_at=past)
        r = client.post(f"/api/v1/signing/{token}/sign", json={"code": code})
        assert r.status_code == 400 and "验证码已过期" in r.json()["detail"]
        _set_request(engine, doc_id, "county_office", token_expires_at=past)
        r = client.get(f"/api/v1/signing/{token}")
        assert r.status_code == 410 and "链接已过期" in r.json()["detail"]

    def test_unknown_token_is_410(self, client: Any, world: World) -> None:
        r = client.get("/api/v1/signing/not-a-real-token-at-all")
        assert r.status_code == 410 and "签署链接无效" in r.json()["detail"]

    def test_organization_without_contact_gets_no_code(self, client: Any, world: World) -> None:
        r = client.post("/api/v1/agreements", json={"cohort": "2020-2021", "term_id": world.term_id},
                        headers=world.admin)  # fmt: skip
        assert r.status_code == 201
        token = tokens(r.json()["created"][0])["county_office"]
        no_code = client.post(f"/api/v1/signing/{token}/code")
        assert no_code.status_code == 409 and "登录单位账号签署" in no_code.json()["detail"]

    def test_a_recipient_for_a_party_the_kind_lacks_is_refused(self, client: Any, world: World) -> None:
        body = {"cohort": "2020-2021", "term_id": world.term_id, "recipients": {"units": "a@b.cn"}}
        r = client.post("/api/v1/agreements", json=body, headers=world.admin)
        assert r.status_code == 422 and "units" in r.json()["detail"]


class TestDeclineVoidReissueResend:
    def test_decline_ends_the_signing(self, client: Any, world: World) -> None:
        created = create_via_api(client, world)
        doc_id, links = created["agreement"]["id"], tokens(created)
        assert sign_by_link(client, doc_id, "county_office", links["county_office"]).status_code == 200
        links["unit"] = sent_link(doc_id, "unit")
        no_reason = client.post(f"/api/v1/signing/{links['unit']}/decline", json={"reason": ""})
        assert no_reason.status_code == 422
        r = client.post(f"/api/v1/signing/{links['unit']}/decline", json={"reason": "岗位信息有误"})
        assert r.status_code == 200 and r.json()["signing_state"] == "declined"
        detail = client.get(f"/api/v1/agreements/{created['agreement']['id']}", headers=world.admin).json()
        assert [p["status"] for p in detail["parties"]] == ["signed", "declined", "voided"]
        assert detail["parties"][1]["decline_reason"] == "岗位信息有误"
        dead = client.get(f"/api/v1/signing/{links['unit']}")
        assert dead.status_code == 410 and "拒签" in dead.json()["detail"]
        told = {(m["party"], m["purpose"]) for m in outbox() if m["purpose"] == "declined"}
        assert told == {("county_office", "declined"), ("unit", "declined")}, (
            "the volunteer never heard of it"
        )

    def test_void_kills_every_link(self, client: Any, world: World) -> None:
        created = create_via_api(client, world)
        doc_id, links = created["agreement"]["id"], tokens(created)
        assert (
            client.post(
                f"/api/v1/agreements/{doc_id}/void", json={"reason": ""}, headers=world.admin
            ).status_code
            == 422
        )
        r = client.post(
            f"/api/v1/agreements/{doc_id}/void", json={"reason": "志愿者放弃服务"}, headers=world.admin
        )
        assert (
            r.status_code == 200 and r.json()["signing_state"] == "voided" and r.json()["status"] == "revoked"
        )
        for token in links.values():
            dead = client.post(f"/api/v1/signing/{token}/code")
            assert dead.status_code == 410 and "该文件已作废" in dead.json()["detail"]
        listed = client.get("/api/v1/agreements?state=voided", headers=world.admin).json()
        assert [a["id"] for a in listed] == [doc_id]

    def test_reissue_supersedes_and_gives_new_links(self, client: Any, world: World) -> None:
        created = create_via_api(client, world)
        old_id, old_links = created["agreement"]["id"], tokens(created)
        assert sign_by_link(client, old_id, "county_office", old_links["county_office"]).status_code == 200
        old_links["unit"] = sent_link(old_id, "unit")
        r = client.post(
            f"/api/v1/agreements/{old_id}/reissue", json={"reason": "补贴标准调整"}, headers=world.admin
        )
        assert r.status_code == 201, r.text
        new = r.json()
        new_id, new_links = new["agreement"]["id"], tokens(new)
        assert new_id != old_id and new["agreement"]["number"].endswith("（2）")
        old = client.get(f"/api/v1/agreements/{old_id}", headers=world.admin).json()
        assert old["status"] == "superseded" and old["superseded_by_id"] == new_id
        assert old["signing_state"] == "voided"
        assert client.get(f"/api/v1/signing/{old_links['unit']}").status_code == 410
        assert sign_by_link(client, new_id, "county_office", new_links["county_office"]).status_code == 200

    def test_resend_kills_the_old_link(self, client: Any, world: World) -> None:
        created = create_via_api(client, world)
        doc_id, old = created["agreement"]["id"], tokens(created)["county_office"]
        waiting = client.post(
            f"/api/v1/agreements/{doc_id}/resend", json={"party": "unit"}, headers=world.admin
        )
        assert waiting.status_code == 409 and "尚未轮到服务单位签署" in waiting.json()["detail"]
        r = client.post(f"/api/v1/agreements/{doc_id}/resend",
                        json={"party": "county_office", "recipient": "hr@county.example.cn"},
                        headers=world.admin)  # fmt: skip
        assert r.status_code == 200, r.text
        assert client.get(f"/api/v1/signing/{old}").status_code == 410
        fresh = client.get(f"/api/v1/signing/{r.json()['token']}")
        assert fresh.status_code == 200 and fresh.json()["party"] == "county_office"
        assert sent_link(doc_id, "county_office") == r.json()["token"]
        assert any(m["to"] == "hr@county.example.cn" and m["purpose"] == "link" for m in outbox())


class TestOrganizationAccounts:
    def test_office_and_unit_sign_from_their_accounts_in_turn(self, client: Any, world: World) -> None:
        created = create_via_api(client, world)
        doc_id = created["agreement"]["id"]
        early = client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.unit_user)
        assert early.status_code == 409 and "尚未轮到您签署" in early.json()["detail"]
        assert client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.county_user).status_code == 200
        again = client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.county_user)
        assert again.status_code == 410
        r = client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.unit_user)
        assert r.status_code == 200 and r.json()["turn"] == "volunteer"
        other = client.post(f"/api/v1/agreements/{doc_id}/sign", headers=world.other_county_user)
        assert other.status_code == 403 and other.json()["code"] == "not_your_document"


class TestScope:
    def test_a_county_office_works_only_in_its_county(self, client: Any, world: World) -> None:
        body = {"cohort": "2020-2021", "term_id": world.term_id}
        refused = client.post("/api/v1/agreements", json=body, headers=world.other_county_user)
        assert refused.status_code == 404
        mine = client.post("/api/v1/agreements", json=body, headers=world.county_user)
        assert mine.status_code == 201, mine.text
        doc_id = mine.json()["created"][0]["agreement"]["id"]
        assert client.get(f"/api/v1/agreements/{doc_id}", headers=world.other_county_user).status_code == 404
        assert client.get("/api/v1/agreements", headers=world.other_county_user).json() == []
        assert [a["id"] for a in client.get("/api/v1/agreements", headers=world.county_user).json()] == [
            doc_id
        ]
        void = client.post(
            f"/api/v1/agreements/{doc_id}/void", json={"reason": "x"}, headers=world.other_county_user
        )
        assert void.status_code == 404
        assert client.post("/api/v1/agreements", json=body, headers=world.unit_user).status_code == 403
        again = client.post("/api/v1/agreements", json={"cohort": "2020-2021"}, headers=world.county_user)
        assert (
            again.status_code == 201 and again.json()["created"] == [] and len(again.json()["skipped"]) == 1
        )


def _set_request(engine: object, doc_id: int, party: str, **values: Any) -> None:
    with Session(engine) as session:  # type: ignore[call-overload]
        req = session.exec(
            select(SigningRequest).where(SigningRequest.document_id == doc_id, SigningRequest.party == party)
        ).one()
        for k, v in values.items():
            setattr(req, k, v)
        session.commit()
