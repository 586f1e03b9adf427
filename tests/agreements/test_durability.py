"""kill -9 in the middle of a signature leaves the old state (or the new one), never a half; signing again works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from service.agreements import signer
from service.audit.service import Actor, verify_chain
from storage.archive import Archive
from storage.models import Document, DocumentRevision, SigningRequest
from tests.agreements.conftest import World, create_via_api

REPO = Path(__file__).resolve().parents[2]

# The test's own script: it patches the archive or the session so that the process SIGKILLs
# itself at the chosen point. Product code has no hook for this.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from sqlalchemy.orm import Session as OrmSession
    from storage import archive as archive_mod
    from service.agreements import signer
    from service.audit.service import Actor
    from service.config import get_settings
    from storage.db import session_scope

    point, doc_id, org_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    real_put = archive_mod.Archive.put

    def put_then_die(self, data):
        key = real_put(self, data)
        os.kill(os.getpid(), signal.SIGKILL)
        return key

    def die_before_commit(self):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after_put":
        archive_mod.Archive.put = put_then_die
    else:
        OrmSession.commit = die_before_commit
    with session_scope() as session:
        signer.sign_as_organization(
            session, archive_mod.Archive.at(get_settings().data_dir), doc_id, org_id, Actor("kill-test")
        )
    print("survived")
    """
)


@pytest.mark.parametrize("point", ["after_put", "before_commit"])
def test_kill_during_signing_keeps_the_old_state(
    point: str, client: Any, world: World, engine: object, archive: Archive
) -> None:
    doc_id = create_via_api(client, world)["agreement"]["id"]
    with Session(engine) as session:  # type: ignore[call-overload]
        before = session.get(Document, doc_id)
        assert before is not None
        old_sha, old_version = before.current_sha256, before.version
    blobs_before = set(archive.keys())

    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, point, str(doc_id), str(world.county_office_id)],
        cwd=REPO, env={**os.environ}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert "survived" not in proc.stdout

    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, doc_id)
        assert doc is not None and (doc.current_sha256, doc.version) == (old_sha, old_version)
        assert doc.signing_state == "pending"
        reqs = session.exec(select(SigningRequest).where(SigningRequest.document_id == doc_id)
                            .order_by(SigningRequest.position)).all()  # fmt: skip
        assert [r.status for r in reqs] == ["open", "waiting", "waiting"]
        revs = session.exec(select(DocumentRevision).where(DocumentRevision.document_id == doc_id)).all()
        assert [r.reason for r in revs] == ["rendered"]
        assert archive.exists(old_sha)
    orphans = set(archive.keys()) - blobs_before
    assert len(orphans) <= 1  # the new revision may be on disk, pointed to by nothing: harmless
    for key in orphans:
        archive.get(key)  # whole, never half-written

    with Session(engine) as session:  # type: ignore[call-overload]
        assert world.county_office_id is not None
        signer.sign_as_organization(session, archive, doc_id, world.county_office_id, Actor("retry"))
        session.commit()
    with Session(engine) as session:  # type: ignore[call-overload]
        doc = session.get(Document, doc_id)
        assert doc is not None and doc.version == old_version + 1 and doc.current_sha256 != old_sha
        assert verify_chain(session, doc_id) == []
