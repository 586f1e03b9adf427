"""Registry: re-rendering from the snapshot reproduces the text; template versions are checked and kept."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import docx
from sqlmodel import Session, select

from doc_templates.context import build_context
from doc_templates.kinds import NOTICE
from doc_templates.render import render_docx
from doc_templates.snapshot import from_snapshot
from service.documents import service, templates
from service.documents.converter import PoolConverter
from service.errors import AppError, Conflict
from storage.archive import Archive
from storage.models import Document, ServiceTerm
from tests.documents.conftest import load_cohort


def _text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(
            ["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True, check=True
        ).stdout


def _first_term(session: Session) -> int:
    term = session.exec(select(ServiceTerm).order_by(ServiceTerm.id)).first()  # type: ignore[arg-type]
    assert term is not None and term.id is not None
    return term.id


def test_rerender_from_snapshot_reproduces_the_text(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    load_cohort(engine, 2, seed=31)
    with Session(engine) as session:
        doc = service.issue_one(session, archive, converter, "notice", _first_term(session))
        session.commit()
        template = archive.get(doc.template_sha256)
        again = converter.convert(
            render_docx(template, build_context(from_snapshot(doc.snapshot))), "again.docx"
        )
    original = _text(archive.get(doc.rendered_sha256))
    assert original.strip() and _text(again) == original
    # Dates come from the cohort, not from the template: 8月14日 is the cohort's signing deadline.
    assert "8月14日之前" in original.replace(" ", "")


def test_reissue_supersedes_and_keeps_the_old_document(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    load_cohort(engine, 1, seed=32)
    with Session(engine) as session:
        term_id = _first_term(session)
        first = service.issue_one(session, archive, converter, "notice", term_id)
        session.commit()
        try:
            service.issue_one(session, archive, converter, "notice", term_id)
            raise AssertionError("a second notice without a reason must be refused")
        except Conflict as exc:
            assert exc.status == 409
        second = service.issue_one(
            session, archive, converter, "notice", term_id, reissue_reason="更正服务单位"
        )
        session.commit()
        old = session.get(Document, first.id)
        assert old is not None
        assert (old.status, old.superseded_by_id, old.live_slot) == ("superseded", second.id, None)
        assert second.live_slot == old.slot and second.number != old.number


def _modified_notice(extra: str) -> bytes:
    document = docx.Document(str(NOTICE.template_path))
    document.add_paragraph(extra)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_template_upload_is_checked_and_old_documents_keep_their_version(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    load_cohort(engine, 2, seed=33)
    with Session(engine) as session:
        term_id = _first_term(session)
        before = service.issue_one(session, archive, converter, "notice", term_id)
        session.commit()
        for bad, why in (
            (b"not a docx", "无法打开"),
            (_modified_notice("{{ volunteer.id_card_photo }}{{ secret }}"), "secret"),
        ):
            try:
                templates.upload_version(session, archive, "notice", bad, user_id=None, convert=None)
                raise AssertionError("a bad template must be refused")
            except AppError as exc:
                assert exc.status == 422 and why in exc.message
        convert = lambda data: converter.convert(data, "check.docx")  # noqa: E731
        version = templates.upload_version(
            session, archive, "notice", _modified_notice("附注：请按时报到。"), user_id=None, convert=convert
        )
        session.commit()
        assert version.active and version.sha256 != before.template_sha256
        term2 = session.exec(select(ServiceTerm).where(ServiceTerm.id != term_id)).first()
        assert term2 is not None and term2.id is not None
        after = service.issue_one(session, archive, converter, "notice", term2.id)
        session.commit()
        assert after.template_sha256 == version.sha256
        assert session.get(Document, before.id).template_sha256 != version.sha256  # type: ignore[union-attr]
    assert "附注：请按时报到。" in _text(archive.get(after.rendered_sha256))
    assert Path(archive.path_for(before.template_sha256)).exists()
