"""``xibu agreements create / resend / void`` as an office runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import Session

from storage.models import Document, Volunteer
from tests.agreements.conftest import World

REPO = Path(__file__).resolve().parents[2]


def _xibu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "agreements", *args],
        cwd=REPO, env={**os.environ}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_create_prints_links_then_resend_and_void(world: World, engine: object, client: Any) -> None:
    with Session(engine) as session:  # type: ignore[call-overload]
        from storage.models import ServiceTerm

        term = session.get(ServiceTerm, world.term_id)
        assert term is not None
        volunteer = session.get(Volunteer, term.volunteer_id)
        assert volunteer is not None
        id_number = volunteer.id_number

    out = _xibu("create", "--cohort", "2020-2021", "--id-number", id_number, "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    (row,) = result["created"]
    assert [x["party"] for x in row["links"]] == ["county_office", "unit", "volunteer"]
    assert all(x["url"].endswith(x["token"]) for x in row["links"])
    page = client.get(f"/api/v1/signing/{row['links'][0]['token']}")
    assert page.status_code == 200 and page.json()["number"] == row["number"]

    again = _xibu("create", "--cohort", "2020-2021", "--id-number", id_number, "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["skipped"][0]["number"] == row["number"]

    resent = _xibu("resend", str(row["id"]), "--party", "unit", "--json")
    assert resent.returncode == 0, resent.stderr
    assert client.get(f"/api/v1/signing/{row['links'][1]['token']}").status_code == 410
    assert client.get(f"/api/v1/signing/{json.loads(resent.stdout)['token']}").status_code == 200

    no_reason = _xibu("void", str(row["id"]), "--reason", " ")
    assert no_reason.returncode == 2 and "作废必须说明原因" in no_reason.stderr
    voided = _xibu("void", str(row["id"]), "--reason", "志愿者放弃服务")
    assert voided.returncode == 0, voided.stderr
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, row["id"])
        assert doc is not None and doc.signing_state == "voided"
