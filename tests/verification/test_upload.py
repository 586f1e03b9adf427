"""``POST /api/v1/verify`` and ``xibu verify``: the upload validation over HTTP and on the command line.

A genuine agreement is 有效 with every check passed, a tampered copy is not, a pending document
fails only for being incomplete, garbage is 无法验证 (never a 500), 21 MB is refused with 413; the
command exits 0 / 1 / 2 accordingly. The world is built once for the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.config import get_settings
from storage.archive import Archive
from storage.db import get_engine
from storage.models import AuditEvent
from tests.documents.conftest import converter  # noqa: F401  (session fixture: the LibreOffice pool)
from tests.verification.corpus import Small, build_small, wipe

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small(migrated_url: str, pki_ready: object, converter) -> Iterator[Small]:  # noqa: F811
    engine = get_engine()
    try:
        yield build_small(engine, Archive.at(Path(get_settings().data_dir)), converter)
    finally:
        wipe(engine)


@pytest.fixture(scope="module")
def api(small: Small) -> Iterator[TestClient]:
    from service.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(autouse=True)
def _full_bucket() -> None:
    """Each test starts with the upload limiter's full burst (it lives in this process)."""
    from service.verification.routes import upload_limiter

    upload_limiter().reset()


def upload(api: TestClient, data: bytes, name: str = "文书.pdf") -> Any:
    return api.post("/api/v1/verify", files={"file": (name, data, "application/pdf")})


def tampered(pdf: bytes) -> bytes:
    pos = pdf.index(b"stream", pdf.index(b"/Length")) + 40
    return pdf[:pos] + bytes([pdf[pos] ^ 0x20]) + pdf[pos + 1 :]


def events(document_id: int) -> list[AuditEvent]:
    with Session(get_engine()) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.document_id == document_id, AuditEvent.event == "verified")
                .order_by(col(AuditEvent.seq))
            ).all()
        )


def test_genuine_agreement_is_valid_with_every_check_passed(api: TestClient, small: Small) -> None:
    r = upload(api, small.agreement.pdf)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "有效" and body["valid"] is True
    assert len(body["checks"]) == 17 and all(c["passed"] for c in body["checks"]), body["checks"]
    assert all(c["title"] and c["reason"] for c in body["checks"])
    assert body["document"]["kind"] == "agreement" and body["document"]["title"] == "三方服务协议"
    parties = [s["party"] for s in body["signatures"]]
    assert parties == ["甲方（服务县项目办）", "乙方（服务单位）", "丙方（志愿者）", "文档时间戳"]
    assert r.headers["cache-control"] == "no-store"
    # Public: the report names roles, never the people (their names are in the certificates).
    assert "赵六" not in r.text
    (event,) = events(small.agreement.document_id)
    assert event.hash_after == body["sha256"] and "有效" in (event.detail or "")
    assert event.actor == "匿名核验人"


def test_tampered_copy_is_not_valid(api: TestClient, small: Small) -> None:
    r = upload(api, tampered(small.agreement.pdf))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "无效" and body["valid"] is False
    failed = {c["code"]: c["reason"] for c in body["checks"] if not c["passed"]}
    assert "integrity" in failed and "摘要不符" in failed["integrity"]
    assert "first_revision" in failed
    assert any("无效" in (e.detail or "") for e in events(small.agreement.document_id))


def test_pending_document_fails_only_for_being_incomplete(api: TestClient, small: Small) -> None:
    r = upload(api, small.pending.pdf)
    body = r.json()
    assert body["verdict"] == "无效"
    failed = [c for c in body["checks"] if not c["passed"]]
    assert [c["code"] for c in failed] == ["complete"], failed
    assert "1/3" in failed[0]["reason"]


def test_21_mb_is_refused_with_413(api: TestClient) -> None:
    r = upload(api, b"%PDF-1.7\n" + b"0" * (21 * 1024 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "文件过大" in r.json()["detail"] and "20MB" in r.json()["detail"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not a PDF at all",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        b"%PDF-1.7\n" + bytes(range(256)) * 64,
        b"PK\x03\x04" + b"\x00" * 100,
    ],
    ids=["empty", "text", "no-xref", "binary-noise", "zip"],
)
def test_garbage_is_unverifiable_not_500(api: TestClient, data: bytes) -> None:
    r = upload(api, data, "garbage.pdf")
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["verdict"] == "无法验证" and body["valid"] is False
    (check,) = body["checks"]
    assert check["code"] == "readable" and not check["passed"] and check["reason"]


def test_truncated_pdf_is_unverifiable(api: TestClient, small: Small) -> None:
    r = upload(api, small.agreement.pdf[:5000])
    assert r.status_code == 422, r.text
    assert r.json()["verdict"] == "无法验证"


def test_missing_file_part_is_a_clear_400(api: TestClient) -> None:
    r = api.post("/api/v1/verify", data={"other": "x"})
    assert r.status_code == 400 and "file" in r.json()["detail"]


def test_cli_in_a_process_of_its_own(small: Small, tmp_path: Path) -> None:
    """``xibu verify`` as installed: a genuine file prints every check ✓ and exits 0."""
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(small.agreement.pdf)
    ok = subprocess.run(
        [sys.executable, "-m", "service", "verify", str(genuine)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.count("✓") == 17 and "✗" not in ok.stdout and "结论：有效" in ok.stdout


def test_cli_exit_codes_and_json(small: Small, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    bad, garbage = tmp_path / "bad.pdf", tmp_path / "garbage.pdf"
    bad.write_bytes(tampered(small.agreement.pdf))
    garbage.write_bytes(b"not a pdf")
    runner = CliRunner()

    failed = runner.invoke(app, ["verify", str(bad)])
    assert failed.exit_code == 1, failed.output
    assert "✗ 签名完整且密码学有效" in failed.output and "结论：无效" in failed.output

    report = runner.invoke(app, ["verify", str(bad), "--json"])
    assert report.exit_code == 1
    body = json.loads(report.stdout)
    assert body["verdict"] == "无效" and "integrity" in [c["code"] for c in body["checks"] if not c["passed"]]

    good = runner.invoke(app, ["verify", "--json", str(tmp_path / "good.pdf")], catch_exceptions=False)
    assert good.exit_code == 2  # no such file: cannot verify

    (tmp_path / "good.pdf").write_bytes(small.agreement.pdf)
    good = runner.invoke(app, ["verify", "--json", str(tmp_path / "good.pdf")])
    assert good.exit_code == 0 and json.loads(good.stdout)["verdict"] == "有效"

    cannot = runner.invoke(app, ["verify", str(garbage)])
    assert cannot.exit_code == 2 and "无法验证" in cannot.output
