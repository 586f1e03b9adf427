"""Lookup by code over HTTP: real sealed documents, the real database, the real app."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from service.config import get_settings
from service.organizations.service import region_office
from service.pki.service import trust
from service.verification import limits
from service.verification.query import LookupQuery
from service.verification.ratelimit import RateLimiter
from signing import validate_pdf
from storage.archive import Archive
from storage.models import AuditEvent, Document, SignerCertificate, Volunteer
from tests.verification.conftest import Holder, get_document, identity_form, issue, lookup

FIXED_CODE = "0A1B-2C3D-4E5F-6G7H"  # carries 0 and 1, so their look-alikes can be typed


def _set_code(engine: object, document_id: int, code: str) -> None:
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, document_id)
        assert doc is not None
        doc.verification_code = code
        session.commit()


class TestStatement:
    def test_certificate(self, engine: object, client: Any, archive: Archive, converter: object) -> None:
        doc = issue(engine, archive, converter, "certificate", agreed_years=2)
        r = lookup(client, doc.code)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.headers["cache-control"] == "no-store"
        s = r.json()
        assert (s["status"], s["status_code"]) == ("有效", "valid")
        stored = get_document(engine, doc.document_id)
        pdf = archive.get(stored.current_sha256)
        assert s["document"] == {
            "kind": "certificate",
            "title": "服务证书",
            "number": stored.number,
            "issuer": "内蒙古自治区西部计划项目办",
            "issue_date": stored.snapshot["data"]["meta"]["issue_date"],
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "code": doc.code,
        }
        assert s["holder_name"] == "龚*琳"
        assert s["placement"] == {
            "project_type": "全国项目",
            "track": "基础教育",
            "teaching_corps": False,
            "league": "呼和浩特市",
            "county": "武川县",
            "unit": "武川县第一中学",
        }
        service = s["service"]
        assert (service["start"], service["end"], service["length"], service["completed"]) == (
            "2020-07-25",
            "2022-07-24",
            "2年",
            True,
        )
        assert [(y["year"], y["grade"], y["qualified"]) for y in service["years"]] == [
            (1, "合格", True),
            (2, "合格", True),
        ]
        pg, fg = s["eligibility"]
        assert pg["eligible"] and (pg["window_start"], pg["window_end"]) == ("2022-07-25", "2025-07-24")
        assert fg["eligible"] and (fg["window_start"], fg["window_end"]) == ("2022-07-25", "2024-07-24")
        assert pg["rule"].startswith("实施方案 三(一)1：") and fg["rule"].startswith("实施方案 三(一)2：")

        # The seal: the region office's certificate, and the times the file itself carries.
        (signer,) = s["signers"]
        with Session(engine) as session:  # type: ignore[call-overload]
            office = region_office(session)
            serials = session.exec(
                select(SignerCertificate.serial).where(SignerCertificate.organization_id == office.id)
            ).all()
        assert signer["status"] == "已签署" and signer["name"] == office.name
        assert signer["certificate_serial"] in serials
        validated = validate_pdf(pdf, trust())
        (sig,) = validated.signatures
        assert sig.signing_time is not None
        assert datetime.fromisoformat(signer["timestamp"]) == sig.signing_time.replace(microsecond=0)
        assert signer["timestamp"].endswith("+08:00") and signer["timestamp_authority"]
        assert abs((datetime.fromisoformat(signer["signed_at"]) - sig.signing_time).total_seconds()) < 120
        assert len(s["document_timestamps"]) == validated.doc_timestamps == 1

    def test_grades_change_shows_at_once(
        self, engine: object, client: Any, archive: Archive, converter: object
    ) -> None:
        doc = issue(engine, archive, converter, "certificate", agreed_years=2)
        assert lookup(client, doc.code).json()["eligibility"][0]["eligible"] is True
        from storage.models import Appraisal

        with Session(engine) as session:  # type: ignore[call-overload]
            second = session.exec(
                select(Appraisal).where(Appraisal.term_id == doc.term_id, Appraisal.service_year == 2)
            ).one()
            second.grade = "不合格"
            session.commit()
        pg, _fg = lookup(client, doc.code).json()["eligibility"]
        assert pg["eligible"] is False and pg["reasons"] == ["第2年考核为不合格"]

    def test_one_year_served_is_not_enough_for_the_bonus(
        self, engine: object, client: Any, archive: Archive, converter: object
    ) -> None:
        doc = issue(engine, archive, converter, "certificate", agreed_years=1)
        pg, fg = lookup(client, doc.code).json()["eligibility"]
        assert pg["eligible"] is False and pg["reasons"] == ["实际服务1年，不满2年"]
        assert fg["eligible"] is True and fg["window_end"] == "2023-07-24"

    def test_notice(self, engine: object, client: Any, archive: Archive, converter: object) -> None:
        doc = issue(engine, archive, converter, "notice", agreed_years=3, grades={})
        s = lookup(client, doc.code).json()
        assert s["status"] == "有效" and s["document"]["title"] == "确认通知书"
        assert s["service"]["completed"] is False and s["service"]["length"] is None
        assert [y["grade"] for y in s["service"]["years"]] == [None, None, None]
        assert all(e["eligible"] is None for e in s["eligibility"])
        assert s["signers"][0]["status"] == "已签署"


class TestCodes:
    @pytest.mark.parametrize(
        "typed",
        [
            FIXED_CODE,
            FIXED_CODE.lower(),
            FIXED_CODE.replace("-", ""),
            " ".join(FIXED_CODE.split("-")),
            FIXED_CODE.replace("-", "–"),
            "０Ａ１Ｂ－２Ｃ３Ｄ－４Ｅ５Ｆ－６Ｇ７Ｈ",
            "OA1B-2C3D-4E5F-6G7H",
            "oaib-2c3d-4e5f-6g7h",
            "0AlB 2C3D 4E5F 6G7H",
        ],
    )
    def test_typed_forms_find_the_document(
        self, typed: str, engine: object, client: Any, archive: Archive, converter: object
    ) -> None:
        doc = issue(engine, archive, converter, "notice", grades={})
        _set_code(engine, doc.document_id, FIXED_CODE)
        r = lookup(client, typed)
        assert r.status_code == 200 and r.json()["document"]["code"] == FIXED_CODE


class TestNotFound:
    UNKNOWN = "ZZZZ-ZZZZ-ZZZZ-ZZZ0"
    MALFORMED = (
        "hello",
        "UUUU-UUUU-UUUU-UUUU",
        "0A1B-2C3D-4E5F",
        "x" * 300,
        "<script>alert(1)</script>",
        "a/b",
        "",
    )

    def test_unknown_and_malformed_look_the_same(
        self, engine: object, client: Any, archive: Archive, converter: object, monkeypatch: Any
    ) -> None:
        issue(engine, archive, converter, "notice", grades={})
        ran: list[tuple[str, Any]] = []
        original = LookupQuery._run

        def spy(self: LookupQuery, conn: Any, code: str) -> Any:
            ran.append((self.sql, code))
            return original(self, conn, code)

        monkeypatch.setattr(LookupQuery, "_run", spy)
        reference = lookup(client, self.UNKNOWN)
        assert reference.status_code == 404
        assert reference.json()["status"] == "未找到" and reference.json()["document"] is None
        for typed in self.MALFORMED:
            ran.clear()
            r = lookup(client, typed)
            assert r.status_code == 404, typed
            assert r.content == reference.content, f"{typed!r} answered differently"
            assert r.headers["content-type"] == reference.headers["content-type"]
            # The same work: exactly one run of the same query, with a code no document has.
            assert len(ran) == 1 and ran[0][0] == LookupQuery(_engine()).sql

    def test_identity_check_of_unknown_and_malformed_look_the_same(self, client: Any) -> None:
        answers = [
            client.post(f"/api/v1/verify/{c}/identity", json={"name": "张三"})
            for c in (self.UNKNOWN, "hello", "UUUU-UUUU-UUUU-UUUU")
        ]
        assert {a.status_code for a in answers} == {404}
        assert len({a.content for a in answers}) == 1


def _engine() -> Any:
    from storage.db import get_engine

    return get_engine()


class TestIdentity:
    def test_only_one_or_the_other(
        self, engine: object, client: Any, archive: Archive, converter: object, monkeypatch: Any
    ) -> None:
        generous = RateLimiter(per_minute=10_000, burst=100)
        monkeypatch.setattr(limits, "identity_limiter", lambda: generous)
        monkeypatch.setattr(limits, "document_identity_limiter", lambda: generous)
        doc = issue(engine, archive, converter, "certificate")
        h = doc.holder
        url = f"/api/v1/verify/{doc.code}/identity"
        cases = [
            ({"name": h.name}, "一致"),
            ({"name": f" {h.name[0]} {h.name[1:]} "}, "一致"),
            ({"name": h.name[:-1]}, "不一致"),
            ({"name": "张三"}, "不一致"),
            ({"id_number": h.id_number}, "一致"),
            ({"id_number": h.id_number.lower()}, "一致"),
            ({"id_number": f"{h.id_number[:6]} {h.id_number[6:14]} {h.id_number[14:]}"}, "一致"),
            ({"id_number": h.id_number[:-1] + ("0" if h.id_number[-1] != "0" else "1")}, "不一致"),
        ]
        for body, expected in cases:
            r = client.post(url, json=body)
            assert r.status_code == 200, (body, r.text)
            assert r.json() == {"result": expected}, body
            assert r.headers["cache-control"] == "no-store"
        for bad in ({}, {"name": h.name, "id_number": h.id_number}, {"name": ""}):
            assert client.post(url, json=bad).status_code == 422

        with Session(engine) as session:  # type: ignore[call-overload]
            events = session.exec(
                select(AuditEvent).where(
                    AuditEvent.document_id == doc.document_id, AuditEvent.event == "verified"
                )
            ).all()
        assert len(events) == len(cases)
        assert {e.detail for e in events} == {
            "核对持有人姓名：一致", "核对持有人姓名：不一致", "核对持有人身份证号：一致", "核对持有人身份证号：不一致"
        }  # fmt: skip
        assert all(e.actor == "匿名核验人" and e.ip == "testclient" for e in events)
        from service.audit.service import verify_chain

        with Session(engine) as session:  # type: ignore[call-overload]
            assert verify_chain(session, doc.document_id) == []

    def test_per_document_limit_whatever_the_address(
        self, engine: object, client: Any, archive: Archive, converter: object, monkeypatch: Any
    ) -> None:
        first = issue(engine, archive, converter, "notice", grades={})
        second = issue(engine, archive, converter, "notice", name="包小明", grades={})
        per_document = RateLimiter(per_minute=1 / 60, burst=2)
        monkeypatch.setattr(limits, "document_identity_limiter", lambda: per_document)
        url = f"/api/v1/verify/{first.code}/identity"
        assert [client.post(url, json={"name": "张三"}).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.post(url, json={"name": "张三"})
        assert "对该文书的身份核对过于频繁" in refused.json()["detail"] and refused.headers["retry-after"]
        assert client.post(f"/api/v1/verify/{second.code}/identity", json={"name": "包小明"}).json() == {
            "result": "一致"
        }


def _secrets_in(text: str, holder: Holder) -> list[str]:
    return [label for label, value in holder.secrets().items() if value and value in text]


class TestNoPersonalData:
    @pytest.mark.parametrize("kind", ["notice", "certificate"])
    def test_json_and_html_never_carry_the_holders_data(
        self, kind: str, engine: object, client: Any, archive: Archive, converter: object
    ) -> None:
        doc = issue(engine, archive, converter, kind, name="龚晓琳")
        h = doc.holder
        texts = {
            "JSON": lookup(client, doc.code).text,
            "page": client.get(f"/v/{doc.code}").text,
            "identity JSON": client.post(f"/api/v1/verify/{doc.code}/identity", json={"name": h.name}).text,
            "identity page (name)": identity_form(client, doc.code, "name", h.name).text,
            "identity page (ID)": identity_form(client, doc.code, "id_number", h.id_number).text,
        }
        assert (
            "核对结果：一致" in texts["identity page (name)"]
            and "核对结果：一致" in texts["identity page (ID)"]
        )
        for where, text in texts.items():
            assert _secrets_in(text, h) == [], f"{where} leaks the holder's data"

    def test_the_scan_itself_would_see_a_leak(
        self, engine: object, archive: Archive, converter: object
    ) -> None:
        """The check above can fail: the unmasked snapshot trips it."""
        doc = issue(engine, archive, converter, "notice", grades={})
        snapshot = str(get_document(engine, doc.document_id).snapshot)
        assert set(_secrets_in(snapshot, doc.holder)) >= {"full name", "ID number", "birth date (ISO)"}


class TestSignedOnline:
    def test_agreement_signers_in_order_and_the_volunteer_masked(
        self, engine: object, client: Any, archive: Archive, converter: object
    ) -> None:
        from tests.agreements.conftest import create_via_api, make_world, sent_link, sign_by_link

        shutil.rmtree(get_settings().outbox_dir, ignore_errors=True)
        world = make_world(engine, name="龚晓琳")
        created = create_via_api(client, world)
        doc_id = created["agreement"]["id"]
        code = get_document(engine, doc_id).verification_code
        pending = lookup(client, code).json()
        assert (pending["status"], pending["status_code"]) == ("签署中", "signing")
        assert [g["status"] for g in pending["signers"]] == ["待签署", "等待前序签署", "等待前序签署"]

        for party in ("county_office", "unit", "volunteer"):
            assert sign_by_link(client, doc_id, party, sent_link(doc_id, party)).status_code == 200

        s = lookup(client, code).json()
        assert (s["status"], s["document"]["title"]) == ("有效", "三方服务协议")
        assert s["document"]["issuer"] == "武川县西部计划项目办"
        county, unit, volunteer = s["signers"]
        assert county["name"] == "武川县西部计划项目办" and unit["name"] == "武川县第一中学"
        assert volunteer["name"] == "龚*琳"
        for g in s["signers"]:
            assert g["status"] == "已签署" and g["timestamp"] and g["certificate_serial"] and g["signed_at"]
        assert len(s["document_timestamps"]) == 1, "finished to B-LTA"
        assert s["document"]["sha256"] == get_document(engine, doc_id).current_sha256

        with Session(engine) as session:  # type: ignore[call-overload]
            v = session.exec(select(Volunteer).where(Volunteer.name == "龚晓琳")).one()
            holder = Holder(v.name, v.id_number, v.birth_date, v.phone, v.email or "")
        for text in (lookup(client, code).text, client.get(f"/v/{code}").text):
            assert _secrets_in(text, holder) == [], "the volunteer's certificate carries the full name"
        assert datetime.fromisoformat(volunteer["signed_at"]) <= datetime.now(UTC)


def test_the_event_loops_connection_never_joins_the_pool(engine: Any) -> None:
    """The held connection runs in autocommit: back in the pool it would break every later transaction."""
    import gc
    import threading

    from service.verification.query import for_engine
    from service.verification.service import DUMMY_CODE

    query = for_engine(engine)
    held: list[Any] = []

    def loop_thread() -> None:
        query.held(DUMMY_CODE)
        held.append(query._held.fairy.driver_connection)

    thread = threading.Thread(target=loop_thread)
    thread.start()
    thread.join()
    gc.collect()  # the dead thread's connection is collected here
    pooled = [engine.raw_connection() for _ in range(5)]
    try:
        assert all(p.driver_connection is not held[0] for p in pooled)
        if engine.dialect.name == "postgresql":
            assert held[0].autocommit and not any(p.driver_connection.autocommit for p in pooled)
    finally:
        for p in pooled:
            p.close()
    with Session(engine) as session, session.begin():
        session.begin_nested()  # a savepoint needs a transaction: fails on an autocommit connection
