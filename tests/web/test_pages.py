"""Pages over the real services: scope on every page, escaping, the import check, the 优秀 cap."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, select

from service.imports.service import import_sheet
from storage.models import Appraisal, Document, ServiceTerm, SigningRequest, Volunteer
from tests.imports.sheets import column, shared_rows, to_csv
from tests.web.conftest import World, csrf_of, logged_in


def _agreement(engine: Any, world: World, key: str) -> int:
    """An agreement row being signed (no PDF: these pages never open it), county office's turn."""
    term = world.terms[key]
    with Session(engine) as s:
        doc = Document(
            kind="agreement", number=f"XB-TEST-{secrets.token_hex(3)}", verification_code=secrets.token_hex(8).upper(),
            cohort_id=world.cohort.id or 0, term_id=term.id, service_year=1, live_slot=f"agreement/term/{term.id}/1",
            slot=f"agreement/term/{term.id}/1", template_sha256="0" * 64, snapshot={}, rendered_sha256="0" * 64,
            current_sha256="0" * 64, signing_state="pending",
        )  # fmt: skip
        s.add(doc)
        s.flush()
        for position, party in enumerate(("county_office", "unit", "volunteer")):
            status = "open" if position == 0 else "waiting"
            s.add(SigningRequest(document_id=doc.id or 0, party=party, position=position, status=status))
        s.commit()
        return doc.id or 0


class TestScope:
    def test_anonymous_visitors_are_sent_to_the_login_form(self, client: Any, world: World) -> None:
        for path in ("/dashboard", "/agreements?state=partial", "/appraisals", "/imports", "/batches"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2F"), path

    def test_roles_see_only_their_pages(self, new_client: Any, world: World) -> None:
        unit = logged_in(new_client(), world.users["unit_a1"])
        for path in ("/imports", "/batches", "/appraisals", "/agreements/new"):
            r = unit.get(path)
            assert r.status_code == 403 and "无权访问" in r.text, path
        volunteer = logged_in(new_client(), world.users["vol_a1"])
        assert volunteer.get("/agreements").status_code == 403
        league = logged_in(new_client(), world.users["league_a"])
        assert league.get("/batches").status_code == 403
        nav = league.get("/dashboard").text
        assert 'href="/imports"' in nav and 'href="/batches"' not in nav

    def test_the_dashboard_counts_only_the_users_volunteers(self, new_client: Any, world: World) -> None:
        for who, count in (("admin", 5), ("league_a", 3), ("county_a1", 2), ("unit_b1", 2)):
            page = logged_in(new_client(), world.users[who]).get("/dashboard").text
            assert f'<dd id="stat-volunteers">{count}</dd>' in page, who

    def test_an_agreement_of_another_county_reads_as_missing(
        self, new_client: Any, world: World, engine: Any
    ) -> None:
        theirs, ours = _agreement(engine, world, "b1"), _agreement(engine, world, "a1")
        county = logged_in(new_client(), world.users["county_a1"])
        assert county.get(f"/agreements/{theirs}").status_code == 404
        assert county.get(f"/agreements/{theirs}/pdf").status_code == 404
        listed = county.get("/agreements").text
        assert f'href="/agreements/{ours}"' in listed and f'href="/agreements/{theirs}"' not in listed
        page = county.get(f"/agreements/{ours}")
        assert page.status_code == 200 and "服务县项目办" in page.text
        other = logged_in(new_client(), world.users["county_b1"])
        assert other.get(f"/agreements/{theirs}").status_code == 200
        token = csrf_of(other.get(f"/agreements/{theirs}").text)
        r = other.post(f"/agreements/{ours}/void", data={"csrf_token": token, "reason": "试探"})
        assert r.status_code == 404
        with Session(engine) as s:
            assert s.get(Document, ours).signing_state == "pending"  # type: ignore[union-attr]

    def test_filters_narrow_the_list_and_never_widen_it(
        self, new_client: Any, world: World, engine: Any
    ) -> None:
        a1, a2, b1 = (_agreement(engine, world, k) for k in ("a1", "a2", "b1"))
        admin = logged_in(new_client(), world.users["admin"])
        page = admin.get("/agreements", params={"league": "呼和浩特市", "county": "土默特左旗"}).text
        assert f"/agreements/{a2}" in page and f"/agreements/{a1}" not in page
        assert "共 0 份" in admin.get("/agreements", params={"state": "partial"}).text
        assert "共 3 份" in admin.get("/agreements", params={"state": "unsigned"}).text
        county = logged_in(new_client(), world.users["county_a1"])
        page = county.get("/agreements", params={"league": "包头市", "county": "东河区"}).text
        assert f"/agreements/{b1}" not in page and "共 0 份" in page


class TestEscaping:
    def test_a_hostile_name_is_shown_as_text(self, client: Any, world: World, engine: Any) -> None:
        hostile = '<script>alert("x")</script><img src=x>'
        with Session(engine) as s:
            v = s.get(Volunteer, world.volunteers["a1"].id)
            assert v is not None
            v.name = hostile
            s.commit()
        _agreement(engine, world, "a1")
        logged_in(client, world.users["county_a1"])
        for path in ("/appraisals", "/agreements"):
            page = client.get(path).text
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x&gt;" in page, path
            assert "<script>alert" not in page and "<img src=x" not in page

    def test_a_hostile_display_name_in_the_header_is_text(
        self, client: Any, world: World, engine: Any
    ) -> None:
        from storage.models import User

        with Session(engine) as s:
            user = s.get(User, world.users["county_a1"].id)
            assert user is not None
            user.display_name = "<b onmouseover=alert(1)>项目办</b>"
            s.commit()
        logged_in(client, world.users["county_a1"])
        page = client.get("/dashboard").text
        assert "&lt;b onmouseover=alert(1)&gt;项目办&lt;/b&gt;" in page and "<b onmouseover" not in page


class TestVerificationPages:
    """The public verification pages (service/verification/pages.py) are site pages like these."""

    def test_a_logged_in_user_keeps_their_header_and_navigation(
        self, client: Any, world: World, engine: Any
    ) -> None:
        from storage.models import User

        logged_in(client, world.users["county_a1"])
        for path, status in (("/v", 200), ("/v/0000-0000-0000-0000", 404)):
            page = client.get(path)
            assert page.status_code == status, path
            assert world.users["county_a1"].display_name in page.text and 'action="/logout"' in page.text
            assert (
                '<a href="/dashboard">工作台</a>' in page.text
                and 'href="/v" aria-current="page"' in page.text
            )
        # Their session's token is the one the verification forms carry.
        token = csrf_of(client.get("/dashboard").text)
        assert f'name="csrf_token" value="{token}"' in client.get("/v").text
        with Session(engine) as s:
            user = s.get(User, world.users["county_a1"].id)
            assert user is not None
            user.active = False
            s.commit()
        page = client.get("/v").text
        assert world.users["county_a1"].display_name not in page and '<a href="/login">登录</a>' in page

    def test_the_old_address_redirects_and_the_navigation_points_to_the_pages(
        self, client: Any, world: World
    ) -> None:
        logged_in(client, world.users["unit_a1"])
        assert 'href="/v"' in client.get("/dashboard").text
        old = client.get("/verify", follow_redirects=False)
        assert old.status_code == 301 and old.headers["location"] == "/v"


def _sheet(rows: int) -> tuple[list[str], list[list[str]]]:
    header, data = shared_rows()
    return header, [list(r) for r in data[:rows]]


class TestImportPage:
    def test_errors_are_listed_by_row_and_column_and_nothing_is_written(
        self, client: Any, world: World, engine: Any
    ) -> None:
        header, rows = _sheet(6)
        rows[1][column(header, "身份证号")] = "150602199706117140"  # wrong check character
        rows[3][column(header, "报到日期")] = "2020-13-45"
        logged_in(client, world.users["admin"])
        token = csrf_of(client.get("/imports").text)
        files = {"file": ("bad.csv", to_csv(header, rows), "text/csv")}
        r = client.post("/imports/check", data={"csrf_token": token, "cohort": "2020-2021"}, files=files)
        assert r.status_code == 422 and 'id="import-errors"' in r.text
        cells = (
            '<td class="num" data-label="行">{}</td><td data-label="序号">{}</td><td data-label="列">{}</td>'
        )
        assert cells.format(3, 2, "身份证号") in r.text and cells.format(5, 4, "报到日期") in r.text
        assert 'id="confirm-form"' not in r.text
        with Session(engine) as s:
            assert len(s.exec(select(ServiceTerm)).all()) == 5  # the world's, nothing more

    def test_a_checked_sheet_is_imported_on_confirmation(
        self, client: Any, world: World, engine: Any
    ) -> None:
        header, rows = _sheet(4)
        logged_in(client, world.users["admin"])
        token = csrf_of(client.get("/imports").text)
        files = {"file": ("good.csv", to_csv(header, rows), "text/csv")}
        checked = client.post(
            "/imports/check", data={"csrf_token": token, "cohort": "2020-2021"}, files=files
        )
        assert checked.status_code == 200 and "检查完成（未写入）：将新增4人" in checked.text
        with Session(engine) as s:
            assert len(s.exec(select(ServiceTerm)).all()) == 5
        confirm = {
            "csrf_token": token, "cohort": "2020-2021", "filename": "good.csv",
            "sha256": checked.text.split('name="sha256" value="')[1].split('"')[0],
        }  # fmt: skip
        done = client.post("/imports/confirm", data=confirm)
        assert done.status_code == 200 and "导入完成：新增4人" in done.text
        with Session(engine) as s:
            assert len(s.exec(select(ServiceTerm)).all()) == 9
        again = client.post("/imports/confirm", data=confirm)
        assert again.status_code == 404 and "已过期" in again.text  # the staged copy is gone

    def test_an_office_cannot_confirm_another_users_staged_sheet(self, new_client: Any, world: World) -> None:
        header, rows = _sheet(2)
        admin = logged_in(new_client(), world.users["admin"])
        token = csrf_of(admin.get("/imports").text)
        files = {"file": ("good.csv", to_csv(header, rows), "text/csv")}
        checked = admin.post("/imports/check", data={"csrf_token": token, "cohort": "2020-2021"}, files=files)
        sha = checked.text.split('name="sha256" value="')[1].split('"')[0]
        other = logged_in(new_client(), world.users["league_a"])
        token = csrf_of(other.get("/imports").text)
        r = other.post("/imports/confirm", data={"csrf_token": token, "cohort": "2020-2021", "sha256": sha})
        assert r.status_code == 404


class TestAppraisalPage:
    def test_the_cap_is_shown_and_a_grade_past_it_is_refused(
        self, client: Any, world: World, engine: Any
    ) -> None:
        a1, a1b = world.terms["a1"].id, world.terms["a1b"].id
        logged_in(client, world.users["county_a1"])
        page = client.get("/appraisals").text
        assert '<dd id="cap-serving">5</dd>' in page and '<dd id="cap-allowed">1</dd>' in page
        base = {"csrf_token": csrf_of(page), "cohort": "2020-2021", "year": "1", "county": "回民区"}
        first = {**base, f"grade-{a1}": "优秀", f"was-{a1}": "", f"grade-{a1b}": "合格", f"was-{a1b}": ""}
        r = client.post("/appraisals", data=first, follow_redirects=True)
        assert (
            r.status_code == 200
            and "已保存2条考核结果" in r.text
            and '<dd id="cap-remaining">0</dd>' in r.text
        )
        second = {**base, f"grade-{a1b}": "优秀", f"was-{a1b}": "合格"}
        r = client.post("/appraisals", data=second)
        assert r.status_code == 409 and "20%上限" in r.text
        with Session(engine) as s:
            grades = {a.term_id: a.grade for a in s.exec(select(Appraisal)).all()}
        assert grades == {a1: "优秀", a1b: "合格"}

    def test_a_county_office_never_sees_or_grades_another_county(self, client: Any, world: World) -> None:
        logged_in(client, world.users["county_a1"])
        page = client.get("/appraisals", params={"county": "东河区"}).text
        names = {k: world.volunteers[k].name for k in world.volunteers}
        assert names["a1"] in page and names["a1b"] in page
        assert names["b1"] not in page and names["a2"] not in page
        b1 = world.terms["b1"].id
        data = {"csrf_token": csrf_of(page), "cohort": "2020-2021", "year": "1", "county": "东河区",
                f"grade-{b1}": "合格", f"was-{b1}": ""}  # fmt: skip
        assert client.post("/appraisals", data=data).status_code == 404

    def test_a_league_office_sees_the_sheet_but_cannot_grade(self, client: Any, world: World) -> None:
        logged_in(client, world.users["league_a"])
        page = client.get("/appraisals", params={"county": "回民区"}).text
        assert world.volunteers["a1"].name in page and "disabled" in page
        a1 = world.terms["a1"].id
        data = {"csrf_token": csrf_of(page), "year": "1", f"grade-{a1}": "合格", f"was-{a1}": ""}
        assert client.post("/appraisals", data=data).status_code == 403


def test_import_sheet_helper_is_the_service(engine: Any) -> None:
    """The pages call the import service itself: a sheet it rejects, the page rejects (same report)."""
    header, rows = _sheet(2)
    with Session(engine) as s:
        report = import_sheet(s, to_csv(header, rows), "x.csv", "2020-2021", dry_run=True)
    assert report.created == 2
