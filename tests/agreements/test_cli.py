"""``xibu agreements create / resend / void`` as an office runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from storage.models import Document, ServiceTerm, Volunteer
from tests.agreements.conftest import World, record_grade

REPO = Path(__file__).resolve().parents[2]


def _xibu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "agreements", *args],
        cwd=REPO, env={**os.environ}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _id_number(engine: object, world: World) -> str:
    """The ID number of the world's volunteer: how an office names one person on the command line."""
    with Session(engine) as session:  # type: ignore[call-overload]
        term = session.get(ServiceTerm, world.term_id)
        assert term is not None
        volunteer = session.get(Volunteer, term.volunteer_id)
        assert volunteer is not None
        return volunteer.id_number


def test_create_prints_links_then_resend_and_void(world: World, engine: object, client: Any) -> None:
    id_number = _id_number(engine, world)
    out = _xibu("create", "--cohort", "2020-2021", "--id-number", id_number, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    (row,) = result["created"]
    assert row["kind"] == "agreement"
    assert [x["party"] for x in row["links"]] == ["county_office", "unit", "volunteer"]
    first, *later = row["links"]
    assert first["url"].endswith(first["token"]) and first["recipient"] is None
    assert all(x["token"] is None and x["url"] is None for x in later), "later links are sent in turn"
    assert [w["party"] for w in row["warnings"]] == ["county_office", "unit"]
    assert (
        "武川县第一中学" in row["warnings"][1]["message"]
        and row["warnings"][1]["organization"] == "武川县第一中学"
    )
    page = client.get(f"/api/v1/signing/{first['token']}")
    assert page.status_code == 200 and page.json()["number"] == row["number"]

    again = _xibu("create", "--cohort", "2020-2021", "--id-number", id_number, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["skipped"][0]["number"] == row["number"]

    early = _xibu("resend", str(row["id"]), "--party", "unit", "--json")
    assert early.returncode == 2 and "尚未轮到服务单位签署" in early.stderr
    resent = _xibu("resend", str(row["id"]), "--party", "county_office", "--json")
    assert resent.returncode == 0, resent.stderr
    assert client.get(f"/api/v1/signing/{first['token']}").status_code == 410
    assert client.get(f"/api/v1/signing/{json.loads(resent.stdout)['token']}").status_code == 200

    no_reason = _xibu("void", str(row["id"]), "--reason", " ")
    assert no_reason.returncode == 2 and "作废必须说明原因" in no_reason.stderr
    voided = _xibu("void", str(row["id"]), "--reason", "志愿者放弃服务")
    assert voided.returncode == 0, voided.stderr
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, row["id"])
        assert doc is not None and doc.signing_state == "voided"


def test_create_an_appraisal_form_once_the_grade_is_recorded(
    world: World, engine: object, client: Any
) -> None:
    id_number = _id_number(engine, world)
    args = ("create", "--cohort", "2020-2021", "--kind", "appraisal", "--year", "1", "--id-number", id_number)

    early = _xibu(*args, "--json")
    assert early.returncode == 2 and "第1服务年的年度考核等次尚未记录" in early.stderr
    record_grade(client, world)
    out = _xibu(*args, "--recipient", "unit=hr@wuchuan.example.cn")
    assert out.returncode == 0, out.stderr
    assert "年度考核表" in out.stdout and "（轮到该方时自动发送）" in out.stdout
    assert "服务县项目办“武川县西部计划项目办”没有登记" in out.stderr  # the unit has a recipient now
    with Session(engine) as session:  # type: ignore[call-overload]
        from sqlmodel import select

        doc = session.exec(select(Document).where(Document.kind == "appraisal")).one()
        assert doc.service_year == 1 and doc.signing_state == "pending"
