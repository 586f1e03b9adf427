"""The whole year as its users live it, in a real browser against the real app and worker.

An office logs in, imports a sheet with errors and sees them, imports the fixed sheet, issues the
notices and watches the progress bar finish, downloads the ZIP and creates an agreement. The unit
tries to sign out of turn and is refused on the page; the county office, the unit and the
volunteer then open their links, get a code from the outbox and sign in order. An employer opens
``/v/{code}`` (by way of the old ``/verify`` address), sees the masked statement in the site's
layout, checks the holder's name, uploads the signed PDF (every check passes) and a tampered copy
(rejected). Every page is checked and photographed at phone and desktop widths.

The steps are three tests sharing one live app, in order: a later one needs what an earlier made.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from service.organizations.service import region_office
from storage.db import get_engine
from storage.models import Organization, OrgKind, Role
from tests.api.factories import PASSWORD, create_login
from tests.e2e.conftest import DESKTOP, PHONE, LiveApp, Pages, outbox, wait_for_message
from tests.imports.sheets import column, shared_rows, to_csv

playwright = pytest.importorskip(
    "playwright.sync_api", reason="playwright is a dev dependency (pip install -e .[dev])"
)
expect = playwright.expect
expect.set_options(timeout=30_000)  # a loaded 2-core CI machine: generous, and never a fixed sleep

ROWS = 40  # a small cohort keeps the batch to seconds
SLOW = 120_000  # ms: LibreOffice's first start, a batch, a signature with its timestamp


@pytest.fixture(scope="module")
def pages() -> Pages:
    return Pages()


@pytest.fixture(scope="module")
def story() -> dict[str, Any]:
    """What one step leaves for the next (links, ids, the signed PDF)."""
    return {}


def _sheets() -> tuple[bytes, bytes, dict[str, str]]:
    """The first rows of the shared sample: a copy with three errors, the correct one, and the first person."""
    header, data = shared_rows()
    rows = [list(r) for r in data[:ROWS]]
    bad = [list(r) for r in rows]
    id_col = column(header, "身份证号")
    bad[2][id_col] = bad[2][id_col][:-1] + ("0" if bad[2][id_col][-1] != "0" else "1")
    bad[5][column(header, "报到日期")] = "2020-02-30"
    bad[8][column(header, "姓名")] = ""
    first = dict(zip(header, rows[0], strict=True))
    return to_csv(header, bad), to_csv(header, rows), first


def _login(page: Any, app: LiveApp, username: str) -> None:
    page.goto(f"{app.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def _new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def _nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name, exact=True).click()


def _upload(page: Any, selector: str, name: str, data: bytes, mime: str) -> None:
    page.locator(selector).set_input_files({"name": name, "mimeType": mime, "buffer": data})


class TestOfficeToEmployer:
    def test_an_office_imports_issues_notices_and_creates_an_agreement(
        self, live_app: LiveApp, browser: Any, pages: Pages, story: dict[str, Any]
    ) -> None:
        with Session(get_engine()) as s:
            admin = create_login(s, Role.REGION_ADMIN, organization=region_office(s))
            s.commit()
            story["admin"] = admin.username
        bad, good, person = _sheets()
        story["person"] = person
        page = _new_page(browser, DESKTOP)

        page.goto(f"{live_app.url}/")
        pages.check(page, "login")
        _login(page, live_app, story["admin"])
        pages.check(page, "dashboard-empty")

        # A sheet with errors: every one listed by row and column, nothing written.
        _nav(page, "导入")
        page.get_by_label("年度").fill("2020-2021")
        _upload(page, "#file", "volunteers.csv", bad, "text/csv")
        page.get_by_role("button", name="检查表格").click()
        errors = page.locator("#import-errors tbody tr")
        expect(errors).to_have_count(3)
        listed = [errors.nth(i).locator("td").all_inner_texts() for i in range(3)]
        assert [(r[0], r[2]) for r in listed] == [("4", "身份证号"), ("7", "报到日期"), ("10", "姓名")], (
            listed
        )
        expect(page.locator("#confirm-form")).to_have_count(0)
        pages.check(page, "import-errors")

        # The corrected sheet: checked, then confirmed.
        page.get_by_label("年度").fill("2020-2021")
        _upload(page, "#file", "volunteers.csv", good, "text/csv")
        page.get_by_role("button", name="检查表格").click()
        expect(page.locator("#report-summary")).to_contain_text(f"将新增{ROWS}人")
        pages.check(page, "import-checked")
        page.get_by_role("button", name="确认导入").click()
        expect(page.locator("#report-summary")).to_contain_text(f"导入完成：新增{ROWS}人")

        # The county's appraisal sheet, with the cohort's 优秀 cap above it (40 serving: 8 places).
        _nav(page, "年度考核")
        page.get_by_label("旗县").select_option(person["服务旗县"])
        page.get_by_role("button", name="查看").click()
        expect(page.locator("#cap-allowed")).to_have_text(str(ROWS // 5))
        expect(page.locator("#grades")).to_contain_text(person["姓名"])
        pages.check(page, "appraisals")

        _nav(page, "工作台")
        expect(page.locator("#stat-volunteers")).to_have_text(str(ROWS))
        expect(page.locator("#stat-notices")).to_have_text("0")
        pages.check(page, "dashboard")

        # Notices: the worker issues them while the bar fills; then the ZIP.
        _nav(page, "批量签发")
        pages.check(page, "batches")
        page.get_by_role("button", name="开始签发").click()
        expect(page).to_have_url(re.compile(r"/batches/\d+$"))
        pages.check(page, "batch-running")
        expect(page.locator("#status")).to_have_text("已完成", timeout=SLOW)
        expect(page.locator("#done")).to_have_text(str(ROWS))
        expect(page.locator("#failed")).to_have_text("0")
        assert page.evaluate(
            "() => [document.getElementById('bar').value, document.getElementById('bar').max]"
        ) == [ROWS, ROWS]
        pages.check(page, "batch-finished")
        with page.expect_download() as download:
            page.get_by_role("link", name="下载全部 PDF（ZIP）").click()
        with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as zf:
            names = zf.namelist()
            assert len(names) == ROWS and all(n.endswith(".pdf") for n in names)
            assert zf.read(names[0]).startswith(b"%PDF-")
        _nav(page, "工作台")
        expect(page.locator("#stat-notices")).to_have_text(str(ROWS))

        # An agreement for the first person, with addresses for the two offices.
        _nav(page, "协议")
        page.get_by_role("link", name="创建协议").click()
        pages.check(page, "agreement-new")
        page.get_by_label("志愿者身份证号").fill(person["身份证号"])
        page.get_by_label("链接有效期至").fill((date.today() + timedelta(days=30)).isoformat())
        page.get_by_label("服务县项目办（邮箱）").fill("county@e2e.example.cn")
        page.get_by_label("服务单位（邮箱）").fill("unit@e2e.example.cn")
        page.get_by_role("button", name="创建并发送签署链接").click()
        expect(page.get_by_role("heading", name="协议已创建")).to_be_visible(timeout=SLOW)
        pages.check(page, "agreement-links")
        story["county_link"] = page.locator("#link-county_office").input_value()
        href = page.get_by_role("link", name="查看协议").get_attribute("href")
        assert href is not None
        story["document_id"] = int(href.rsplit("/", 1)[1])
        assert story["county_link"].startswith(f"{live_app.url}/s/")
        page.context.close()

    def test_the_parties_sign_in_order_and_out_of_turn_is_refused(
        self, live_app: LiveApp, browser: Any, pages: Pages, story: dict[str, Any]
    ) -> None:
        if "document_id" not in story:
            pytest.skip("the office's step did not finish")
        doc_id, person = story["document_id"], story["person"]
        with Session(get_engine()) as s:
            unit = s.exec(
                select(Organization).where(
                    Organization.kind == OrgKind.SERVICE_UNIT.value, Organization.name == person["服务单位"]
                )
            ).one()
            unit_user = create_login(s, Role.SERVICE_UNIT, organization=unit).username
            s.commit()

        # The unit, logged in, tries to sign before the county office: refused on the page.
        office = _new_page(browser, DESKTOP)
        _login(office, live_app, unit_user)
        office.goto(f"{live_app.url}/agreements/{doc_id}")
        pages.check(office, "agreement-unit")
        office.get_by_role("button", name="以服务单位身份签署").click()
        expect(office.get_by_role("alert")).to_contain_text("尚未轮到您签署")
        pages.check(office, "out-of-turn-refused")
        office.context.close()

        links = {"county_office": story["county_link"]}
        for party in ("county_office", "unit", "volunteer"):
            if party not in links:
                links[party] = wait_for_message(doc_id, party, "link")["link"]
            page = _new_page(browser, PHONE)
            page.goto(links[party])
            expect(page.locator("#turn")).to_contain_text("现在轮到您签署")
            first_page = page.locator(".pages img").first
            expect(first_page).to_be_visible()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=first_page.element_handle()
            )
            pages.check(page, f"signing-{party}")
            if party == "county_office":
                with page.expect_download() as download:
                    page.get_by_role("link", name="下载 PDF").click()
                assert download.value.path().read_bytes().startswith(b"%PDF-")
            codes_before = len([m for m in outbox(doc_id) if m["party"] == party and m["purpose"] == "code"])
            page.get_by_role("button", name="获取验证码").click()
            expect(page.get_by_role("status").first).to_contain_text("验证码已发送")
            code = wait_for_message(doc_id, party, "code", seen=codes_before)["code"]
            page.get_by_label("验证码（6位数字）").fill(code)
            page.get_by_role("button", name="签署", exact=True).click()
            expect(page.get_by_role("heading", name="签署成功")).to_be_visible(timeout=SLOW)
            pages.check(page, f"signed-{party}")
            page.context.close()

        # The office sees it completed, with the trail, and downloads the signed PDF.
        page = _new_page(browser, DESKTOP)
        _login(page, live_app, story["admin"])
        page.goto(f"{live_app.url}/agreements/{doc_id}")
        expect(page.locator("#state")).to_contain_text("已完成")
        expect(page.locator("#parties .status")).to_have_text(["已签署", "已签署", "已签署"])
        expect(page.locator("#audit")).to_contain_text("签署完成")
        pages.check(page, "agreement-completed")
        _nav(page, "协议")
        page.get_by_label("状态").select_option(label="已完成")
        page.get_by_role("button", name="筛选").click()
        expect(page.locator("#agreements tbody tr")).to_have_count(1)
        pages.check(page, "agreements-completed")
        page.goto(f"{live_app.url}/agreements/{doc_id}")
        story["code"] = page.locator("#verification-code").inner_text().strip()
        with page.expect_download() as download:
            page.locator("#download").click()
        story["signed_pdf"] = download.value.path().read_bytes()
        assert story["signed_pdf"].startswith(b"%PDF-")
        page.context.close()

    def test_an_employer_checks_the_code_and_the_file(
        self, live_app: LiveApp, browser: Any, pages: Pages, story: dict[str, Any]
    ) -> None:
        if "signed_pdf" not in story:
            pytest.skip("the signing step did not finish")
        person = story["person"]
        page = _new_page(browser, PHONE)
        blocked: list[str] = []  # what the CSP refused (an inline style or script would land here)
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

        # The site's earlier address still leads to the one set of verification pages.
        page.goto(f"{live_app.url}/verify")
        expect(page).to_have_url(f"{live_app.url}/v")
        _in_site_layout(page)
        pages.check(page, "verify")
        page.get_by_role("textbox", name="验证码").fill(story["code"].lower())
        page.get_by_role("button", name="查询").click()
        expect(page).to_have_url(re.compile(r"/v/"))
        expect(page.locator("#verdict")).to_contain_text("有效")
        name = person["姓名"]
        masked = name[0] + "*" + (name[-1] if len(name) > 2 else "")
        expect(page.locator("body")).to_contain_text(masked)
        body = page.locator("body").inner_text()
        assert name not in body and person["身份证号"] not in body and person["手机号码"] not in body
        _in_site_layout(page)
        pages.check(page, "statement")

        # The identity form (a POST with the page's CSRF token): 一致 for the full name, nothing more.
        page.get_by_label("持有人完整姓名或身份证号").fill(name)
        page.get_by_role("button", name="核对").click()
        expect(page.locator("#identity-answer")).to_have_text("核对结果：一致")
        assert name not in page.locator("body").inner_text()
        pages.check(page, "statement-identity")

        # The upload form below the statement: every check passes for the signed PDF ...
        _upload(page, "#file", "agreement.pdf", story["signed_pdf"], "application/pdf")
        page.get_by_role("button", name="上传并核验").click()
        expect(page).to_have_url(f"{live_app.url}/v/upload")
        expect(page.locator("#verdict")).to_contain_text("有效")
        results = page.locator("#checks td.result").all_inner_texts()
        assert results and all(r.strip() == "通过" for r in results), page.locator("#checks").inner_text()
        _in_site_layout(page)
        pages.check(page, "upload-genuine")

        # ... and not for a tampered copy (uploaded from the result page's own form).
        _upload(page, "#file", "agreement.pdf", _tampered(story["signed_pdf"]), "application/pdf")
        page.get_by_role("button", name="上传并核验").click()
        expect(page.locator("#verdict")).not_to_contain_text("每一项检查均通过")
        assert "未通过" in page.locator("#checks").inner_text()
        pages.check(page, "upload-tampered")
        assert blocked == [], blocked
        page.context.close()


def _in_site_layout(page: Any) -> None:
    """The site's header, navigation and stylesheet (applied, not refused by the CSP), 验证 current."""
    expect(page.locator("header.site")).to_be_visible()
    current = page.get_by_role("navigation", name="主导航").locator('a[aria-current="page"]')
    expect(current).to_have_text("验证")
    header = page.evaluate("() => getComputedStyle(document.querySelector('header.site')).backgroundColor")
    assert header == "rgb(26, 79, 139)", f"site.css not applied: header is {header}"
    verdict = page.locator("#verdict")
    if verdict.count():
        radius = verdict.evaluate("el => getComputedStyle(el).borderRadius")
        assert radius == "8px", "the verification styles come from site.css"


def _tampered(pdf: bytes) -> bytes:
    """One byte changed in the middle of what the first signature covers."""
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found, "a signed PDF has a ByteRange"
    start, length = int(found.group(1)), int(found.group(2))
    at = start + length // 2
    out = bytearray(pdf)
    out[at] = out[at] ^ 0x20 if chr(out[at]).isalpha() else ord("7") if out[at] != ord("7") else ord("3")
    return bytes(out)
