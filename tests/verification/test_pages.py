"""The public pages: /v (type a code), /v/{code} (the statement), the identity form, the upload form."""

from __future__ import annotations

import re
from typing import Any

from storage.archive import Archive
from tests.verification.conftest import get_document, issue

MARKUP_UNIT = '武川县"青年之家" & <b>志愿者</b>服务站'


def test_statement_page_renders_for_a_phone_and_escapes_everything(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate", unit_name=MARKUP_UNIT)
    page = client.get(f"/v/{doc.code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<html lang="zh-CN">' in html and "noindex" in html
    for text in (
        "有效",
        "服务证书",
        "龚*琳",
        "报考硕士研究生初试总分加10分",
        "实施方案 三(一)1",
        "自治区项目办",
    ):
        assert text in html, text
    assert "&lt;b&gt;志愿者&lt;/b&gt;" in html and "<b>志愿者</b>" not in html
    assert "&#34;青年之家&#34; &amp;" in html
    # Self-contained: nothing loaded from elsewhere, no script.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html) and "<script" not in html
    # Both forms are there: another code, and a PDF upload.
    assert 'action="/v"' in html and 'action="/v/upload"' in html and 'type="file"' in html


def test_typed_input_is_escaped_on_the_not_found_page(client: Any) -> None:
    page = client.get("/v/<script>alert(1)</script>")
    assert page.status_code == 404 and "未找到" in page.text
    assert (
        "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    )


def test_form_page_and_its_redirect(client: Any) -> None:
    form = client.get("/v")
    assert form.status_code == 200 and 'name="code"' in form.text and "<label" in form.text
    go = client.get("/v", params={"code": " 7kq3 m9xd 2hfa 0rtv "}, follow_redirects=False)
    assert go.status_code == 303 and go.headers["location"] == "/v/7kq3%20m9xd%202hfa%200rtv"
    assert client.get(go.headers["location"]).status_code == 404


def test_identity_form_answers_on_the_page(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "notice", grades={})
    same = client.post(f"/v/{doc.code}/identity", data={"field": "name", "value": doc.holder.name})
    assert same.status_code == 200 and "核对结果：一致" in same.text
    other = client.post(f"/v/{doc.code}/identity", data={"field": "id_number", "value": "110101199003077777"})
    assert "核对结果：不一致" in other.text
    empty = client.post(f"/v/{doc.code}/identity", data={"field": "name", "value": ""})
    assert "请填写姓名或身份证号" in empty.text


def test_upload_form_shows_every_check(
    engine: object, client: Any, archive: Archive, converter: object
) -> None:
    doc = issue(engine, archive, converter, "certificate")
    pdf = archive.get(get_document(engine, doc.document_id).current_sha256)
    genuine = client.post("/v/upload", files={"file": ("证书.pdf", pdf, "application/pdf")})
    assert genuine.status_code == 200, genuine.text
    verdict = genuine.text.split('<p class="word">')[1].split("</p>")[0]
    assert verdict == "有效" and "逐项检查" in genuine.text and "未通过" not in genuine.text
    broken = client.post("/v/upload", files={"file": ("x.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")})
    verdict = broken.text.split('<p class="word">')[1].split("</p>")[0]
    assert broken.status_code == 200 and verdict in ("无法验证", "无效") and "未通过" in broken.text
