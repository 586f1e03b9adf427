"""``xibu issue document`` issues every kind for one volunteer; notices and certificates come sealed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from doc_templates.kinds import KINDS
from storage.models import Appraisal, ServiceTerm, Volunteer
from tests.documents.conftest import COHORT, load_cohort

REPO = Path(__file__).resolve().parents[2]


def _xibu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_issue_document_of_every_kind(engine, tmp_path: Path) -> None:
    load_cohort(engine, 1, seed=51)
    with Session(engine) as session:
        term = session.exec(select(ServiceTerm)).one()
        volunteer = session.get(Volunteer, term.volunteer_id)
        assert volunteer is not None and term.id is not None
        id_number, name = volunteer.id_number, volunteer.name
        # Evaluations and certificates need every served year appraised.
        for year in range(1, term.agreed_years + 1):
            session.add(Appraisal(term_id=term.id, service_year=year, grade="合格"))
        session.commit()

    for code, kind in KINDS.items():
        out = tmp_path / f"{code}.pdf"
        done = _xibu(
            "issue",
            "document",
            "--kind",
            code,
            "--cohort",
            COHORT,
            "--id-number",
            id_number,
            "--out",
            str(out),
            "--json",
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert summary["kind"] == code and len(summary["code"]) == 19
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        compact = text.replace(" ", "").replace("\n", "")
        assert name in compact, f"{code}: the volunteer's name is printed"
        signatures = subprocess.run(["pdfsig", "-nocert", str(out)], capture_output=True, text=True).stdout
        sealed = "Signature is Valid." in signatures
        assert sealed == (code in ("notice", "certificate")), (
            f"{code}: {kind.title} sealed only if the office issues it alone"
        )

    again = _xibu("issue", "document", "--kind", "notice", "--cohort", COHORT, "--id-number", id_number)
    assert again.returncode == 2 and "已签发" in again.stderr
    wrong = _xibu(
        "issue", "document", "--kind", "notice", "--cohort", COHORT, "--id-number", "110101199003074514"
    )
    assert wrong.returncode == 2 and "没有该身份证号" in wrong.stderr
