"""The public verification pages, the only ones: /v (type a code or upload a PDF), /v/{code} (the
statement), the identity form and the upload form.

They are site pages: the site's layout and stylesheet, nothing inline (the CSP forbids it), a CSRF
token on every POST form, and refusals (403, 413, 429) as pages. /verify, the earlier address,
redirects here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.verification import limits
from service.verification.routes import upload_limiter
from storage.archive import Archive
from storage.models import AuditEvent
from tests.verification.conftest import get_document, identity_form, issue, page_token

MARKUP_UNIT = '武川县"青年之家" & <b>志愿者</b>服务站'
CSRF_REFUSED = "页面已过期或来源无法确认"


def _verdict(html: str) -> str:
    return html.split('<h1 class="word">')[1].split("</h1>")[0]


def _verified_events(engine: object, document_id: int) -> list[str]:
    with Session(engine) as session:  # type: ignore[call-overload]
        rows = session.exec(
            select(AuditEvent.detail)
            .where(AuditEvent.document_id == document_id, AuditEvent.event == "verified")
            .order_by(col(AuditEvent.seq))
        ).all()
        return [r or "" for r in rows]


def assert_site_page(html: str) -> None:
    """The site's layout and stylesheet, 验证 marked in the navigation, nothing inline or from elsewhere."""
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert '<header class="site">' in html and '<footer class="site">' in html
    assert 'href="/v" aria-current="page"' in html, "the navigation marks 验证"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="zh-CN">' in html and '<meta name="robots" content="noindex, nofollow">' in html
    # The CSP has no 'unsafe-inline': an inline style or script would be dropped by the browser.
    assert "<style" not in html and " style=" not in html and "<script" not in html
    assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", html), "nothing from other sites"


def test_statement_page_is_a_site_page_and_escapes_everything(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate", unit_name=MARKUP_UNIT)
    page = client.get(f"/v/{doc.code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer", "the code is in the address"
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    html = page.text
    assert_site_page(html)
    assert _verdict(html) == "有效" and 'class="verdict ok"' in html
    for text in (
        "服务证书",
        "龚*琳",
        "报考硕士研究生初试总分加10分",
        "实施方案 三(一)1",
        "自治区项目办",
        "（北京时间）",
    ):
        assert text in html, text
    assert "&lt;b&gt;志愿者&lt;/b&gt;" in html and "<b>志愿者</b>" not in html
    assert "&#34;青年之家&#34; &amp;" in html
    # Three forms: another code (GET), and the identity check and the upload, each with this visitor's token.
    token = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert 'action="/v"' in html and len(token) == 2 and len(set(token)) == 1
    assert f'action="/v/{doc.code}/identity"' in html and 'action="/v/upload"' in html


def test_unknown_and_malformed_codes_get_the_same_404_page(client: Any) -> None:
    unknown = client.get("/v/0000-0000-0000-0000")
    malformed = client.get("/v/<script>alert(1)</script>")
    for page in (unknown, malformed):
        assert (
            page.status_code == 404
            and _verdict(page.text) == "未找到"
            and 'class="verdict none"' in page.text
        )
        assert_site_page(page.text)
    assert "<script>alert(1)</script>" not in malformed.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in malformed.text

    def look(html: str) -> str:  # what was typed (kept in the code field) and the time aside
        return re.sub(r"核验时间：[^<]*", "", re.sub(r' value="[^"]*"', "", html))

    assert look(unknown.text) == look(malformed.text)


def test_entry_page_its_redirect_and_the_old_address(client: Any) -> None:
    entry = client.get("/v")
    assert entry.status_code == 200 and 'name="code"' in entry.text and '<label for="code">' in entry.text
    assert_site_page(entry.text)
    assert 'action="/v/upload"' in entry.text and '<label for="file">' in entry.text
    go = client.get("/v", params={"code": " 7kq3 m9xd 2hfa 0rtv "}, follow_redirects=False)
    assert go.status_code == 303 and go.headers["location"] == "/v/7kq3%20m9xd%202hfa%200rtv"
    assert client.get(go.headers["location"]).status_code == 404

    old = client.get("/verify", follow_redirects=False)
    assert old.status_code == 301 and old.headers["location"] == "/v"
    old = client.get("/verify", params={"code": "7kq3"}, follow_redirects=False)
    assert old.status_code == 301 and old.headers["location"] == "/v?code=7kq3"
    assert client.get("/verify", params={"code": "7kq3"}).url.path == "/v/7kq3"
    # A form from a page opened before the move keeps its method, body and token.
    posted = client.post("/verify", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert posted.status_code == 308 and posted.headers["location"] == "/v/upload"


def test_the_navigation_points_to_the_pages(client: Any) -> None:
    login = client.get("/login").text
    assert '<a href="/v">验证</a>' in login and "/verify" not in login


def test_identity_form_answers_on_the_page(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "notice", grades={})
    same = identity_form(client, doc.code, "name", doc.holder.name)
    assert same.status_code == 200 and "核对结果：一致" in same.text
    assert_site_page(same.text)
    other = identity_form(client, doc.code, "id_number", "110101199003077777")
    assert other.status_code == 200 and "核对结果：不一致" in other.text
    assert 'value="id_number" checked' in other.text, "the field asked stays chosen"
    empty = identity_form(client, doc.code, "name", "  ")
    assert (
        empty.status_code == 422 and "请填写姓名或身份证号" in empty.text and _verdict(empty.text) == "有效"
    )
    assert _verified_events(engine, doc.document_id) == ["核对持有人姓名：一致", "核对持有人身份证号：不一致"]
    missing = identity_form(client, "0000-0000-0000-0000", "name", "张三")
    assert missing.status_code == 404 and _verdict(missing.text) == "未找到"


def test_identity_form_without_the_token_is_refused_and_records_nothing(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "notice", grades={})
    url = f"/v/{doc.code}/identity"
    bare = client.post(url, data={"field": "name", "value": doc.holder.name})
    assert bare.status_code == 403 and CSRF_REFUSED in bare.text and "核对结果" not in bare.text
    assert '<link rel="stylesheet" href="/static/css/site.css">' in bare.text, "refused as a site page"
    with TestClient(client.app, raise_server_exceptions=False) as other:  # another browser's token
        stolen = page_token(other, f"/v/{doc.code}")
    forged = client.post(url, data={"csrf_token": stolen, "field": "name", "value": doc.holder.name})
    assert forged.status_code == 403 and "核对结果" not in forged.text
    assert _verified_events(engine, doc.document_id) == []
    assert "核对结果：一致" in identity_form(client, doc.code, "name", doc.holder.name).text


def test_identity_checks_past_the_limit_get_429_with_the_wait(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "notice", grades={})
    token = page_token(client, f"/v/{doc.code}")
    while limits.identity_limiter().take("testclient").allowed:
        pass
    refused = identity_form(client, doc.code, "name", doc.holder.name, token=token)
    assert refused.status_code == 429 and refused.headers["retry-after"].isdigit()
    assert "身份核对过于频繁" in refused.text and "核对结果" not in refused.text
    assert _verdict(refused.text) == "有效", "the statement is still shown"
    assert _verified_events(engine, doc.document_id) == []


def test_upload_form_shows_every_check(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate")
    pdf = archive.get(get_document(engine, doc.document_id).current_sha256)
    token = page_token(client)
    genuine = client.post(
        "/v/upload", data={"csrf_token": token}, files={"file": ("证书.pdf", pdf, "application/pdf")}
    )
    assert genuine.status_code == 200, genuine.text
    assert_site_page(genuine.text)
    assert _verdict(genuine.text) == "有效" and 'class="verdict ok"' in genuine.text
    rows = re.findall(r'<tr data-check="([a-z_]+)">', genuine.text)
    assert len(rows) >= 8 and "未通过" not in genuine.text and genuine.text.count("badge ok") == len(rows)
    assert "证书.pdf" in genuine.text and "服务证书" in genuine.text
    assert len(_verified_events(engine, doc.document_id)) == 1

    files = {"file": ("x.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}
    broken = client.post("/v/upload", data={"csrf_token": token}, files=files)
    assert (
        broken.status_code == 200
        and _verdict(broken.text) in ("无法验证", "无效")
        and "未通过" in broken.text
    )


def test_upload_form_without_the_token_is_refused_and_verifies_nothing(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate")
    pdf = archive.get(get_document(engine, doc.document_id).current_sha256)
    client.get("/v")  # a session, so only the token is missing
    bare = client.post("/v/upload", files={"file": ("证书.pdf", pdf, "application/pdf")})
    assert bare.status_code == 403 and CSRF_REFUSED in bare.text and "逐项检查" not in bare.text
    wrong = client.post(
        "/v/upload", data={"csrf_token": "x" * 43}, files={"file": ("证书.pdf", pdf, "application/pdf")}
    )
    assert wrong.status_code == 403
    assert _verified_events(engine, doc.document_id) == []


def test_upload_refusals_are_pages(client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token = page_token(client)
    none = client.post("/v/upload", data={"csrf_token": token})
    assert none.status_code == 400 and "请选择要核验的 PDF 文件" in none.text

    monkeypatch.setattr(settings, "max_upload_bytes", 1024 * 1024)
    over = b"%PDF-1.7\n" + b"0" * (1024 * 1024)
    big = client.post(
        "/v/upload", data={"csrf_token": token}, files={"file": ("big.pdf", over, "application/pdf")}
    )
    assert big.status_code == 413 and _verdict(big.text) == "文件过大" and "上限为1MB" in big.text
    assert_site_page(big.text)
    # Far over: refused from the declared length, before the body is read.
    huge = client.post(
        "/v/upload", data={"csrf_token": token}, files={"file": ("huge.pdf", over * 2, "application/pdf")}
    )
    assert huge.status_code == 413 and "文件过大" in huge.text

    while upload_limiter().take("testclient").allowed:
        pass
    files = {"file": ("x.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}
    limited = client.post("/v/upload", data={"csrf_token": token}, files=files)
    assert limited.status_code == 429 and limited.headers["retry-after"].isdigit()
    assert _verdict(limited.text) == "请稍后再试" and "文件验证过于频繁" in limited.text
