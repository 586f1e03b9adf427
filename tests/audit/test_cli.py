"""``xibu audit verify`` and ``xibu archive check`` find what was done to the database or the disk behind our back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from storage.archive import Archive
from storage.models import Document

from .conftest import issue_with_trail

ROOT = Path(__file__).resolve().parents[2]


def xibu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def sql(engine: object, statement: str, **params: object) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(statement), params)


class TestAuditVerify:
    def test_intact_chains_exit_zero(self, engine: object, archive: Archive, converter: object) -> None:
        issue_with_trail(engine, archive, converter, count=2)
        r = xibu("audit", "verify", "--json")
        assert r.returncode == 0, r.stderr
        body = json.loads(r.stdout)
        assert body == {"ok": True, "documents_checked": 2, "problems": {}}

    def test_an_edited_detail_is_reported(self, engine: object, archive: Archive, converter: object) -> None:
        (doc_id,) = issue_with_trail(engine, archive, converter)
        sql(
            engine,
            "UPDATE auditevent SET detail = '短信 139****9999' WHERE document_id = :d AND seq = 2",
            d=doc_id,
        )
        r = xibu("audit", "verify")
        assert r.returncode == 1
        assert f"文书{doc_id}：第2条事件内容被改动" in r.stderr
        assert "第3条" not in r.stderr  # the chain after it still links: only the edited event is named

    def test_a_deleted_event_is_reported(self, engine: object, archive: Archive, converter: object) -> None:
        (doc_id,) = issue_with_trail(engine, archive, converter)
        sql(engine, "DELETE FROM auditevent WHERE document_id = :d AND seq = 2", d=doc_id)
        r = xibu("audit", "verify", "--json")
        assert r.returncode == 1
        problems = json.loads(r.stdout)["problems"][str(doc_id)]
        assert f"文书{doc_id}：第2条事件缺失或顺序被改动（实际序号3）" in problems
        assert f"文书{doc_id}：第3条事件与前一条不衔接（被删除、插入或重排）" in problems

    def test_a_deleted_last_event_or_whole_trail_is_reported(
        self, engine: object, archive: Archive, converter: object
    ) -> None:
        """Removing the newest event breaks no link; the chain head kept on the document catches it."""
        (doc_id,) = issue_with_trail(engine, archive, converter)
        sql(
            engine,
            "DELETE FROM auditevent WHERE document_id = :d AND seq = (SELECT MAX(seq) FROM auditevent WHERE document_id = :d)",
            d=doc_id,
        )
        r = xibu("audit", "verify", "--json")
        assert r.returncode == 1
        assert any("链头不一致" in p for p in json.loads(r.stdout)["problems"][str(doc_id)])
        sql(engine, "DELETE FROM auditevent WHERE document_id = :d", d=doc_id)
        r = xibu("audit", "verify", "--json")
        assert r.returncode == 1 and str(doc_id) in json.loads(r.stdout)["problems"]

    def test_swapped_sequence_numbers_are_reported(
        self, engine: object, archive: Archive, converter: object
    ) -> None:
        (doc_id,) = issue_with_trail(engine, archive, converter)
        for a, b in ((2, -1), (3, 2), (-1, 3)):  # through -1: (document_id, seq) is unique
            sql(
                engine,
                "UPDATE auditevent SET seq = :b WHERE document_id = :d AND seq = :a",
                a=a,
                b=b,
                d=doc_id,
            )
        r = xibu("audit", "verify")
        assert r.returncode == 1
        assert f"文书{doc_id}：第2条事件内容被改动" in r.stderr
        assert f"文书{doc_id}：第3条事件内容被改动" in r.stderr

    def test_one_document_can_be_checked_alone(
        self, engine: object, archive: Archive, converter: object
    ) -> None:
        broken, intact = issue_with_trail(engine, archive, converter, count=2)
        sql(engine, "UPDATE auditevent SET actor = '别人' WHERE document_id = :d AND seq = 1", d=broken)
        assert xibu("audit", "verify", "--document", str(intact)).returncode == 0
        assert xibu("audit", "verify", "--document", str(broken)).returncode == 1


class TestArchiveCheck:
    def test_every_referenced_blob_is_checked_and_damage_is_named(
        self, engine: object, archive: Archive, converter: object
    ) -> None:
        (doc_id,) = issue_with_trail(engine, archive, converter)
        ok = xibu("archive", "check", "--json")
        assert ok.returncode == 0, ok.stderr
        # template + rendered + sealed: three blobs for one sealed notice
        assert json.loads(ok.stdout) == {"ok": True, "checked": 3, "problems": []}

        with Session(engine) as session:  # type: ignore[call-overload]
            doc = session.get(Document, doc_id)
            assert doc is not None
            current, rendered = doc.current_sha256, doc.rendered_sha256
        path = archive.path_for(current)
        os.chmod(path, 0o644)  # blobs are written read-only
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit
        path.write_bytes(bytes(data))
        archive.path_for(rendered).unlink()

        r = xibu("archive", "check", "--json")
        assert r.returncode == 1
        found = {p["key"]: p for p in json.loads(r.stdout)["problems"]}
        assert found[current]["problem"] == "corrupt"
        assert f"document {doc_id} current" in found[current]["referenced_by"]
        assert f"document {doc_id} revision 2 (sealed:region_office)" in found[current]["referenced_by"]
        assert found[rendered]["problem"] == "missing"
        assert set(found) == {current, rendered}

        human = xibu("archive", "check")
        assert human.returncode == 1 and "内容被改动" in human.stderr and "缺失" in human.stderr
