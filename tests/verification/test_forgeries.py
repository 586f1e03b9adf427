"""Validation by upload against a corpus of forgeries made from genuine documents of every kind.

Every genuine document is 有效 with every check passed; every forgery is not, and the check that
its attack must trip is among the failed ones (each forgery names it), so no test passes for the
wrong reason. The world (documents, registry, PKI state) is built once for the module.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from sqlmodel import Session

from doc_templates.kinds import KINDS
from service.config import get_settings
from service.pki import service as pki
from service.verification.upload import UploadReport, verify_upload
from signing import validation_context
from signing.verify import Verdict
from storage.archive import Archive
from storage.db import get_engine
from tests.documents.conftest import converter  # noqa: F401  (session fixture: the LibreOffice pool)
from tests.verification.corpus import Corpus, Genuine, build, wipe
from tests.verification.forgeries import (
    FORGERIES,
    Forgery,
    Kit,
    cases,
    contents_empty,
    xref_lists_object_twice,
)


@pytest.fixture(scope="module")
def archive() -> Archive:
    return Archive.at(Path(get_settings().data_dir))


@pytest.fixture(scope="module")
def corpus(migrated_url: str, pki_ready: object, converter, archive: Archive) -> Iterator[Corpus]:  # noqa: F811
    engine = get_engine()
    try:
        yield build(engine, archive, converter)
    finally:
        wipe(engine)


@pytest.fixture()
def db(corpus: Corpus) -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session


def kit(corpus: Corpus, kind: str) -> Kit:
    return Kit(corpus, kind, pki.pki(), pki.timestamper(), pki.stamp_fonts(), pki.trust())


def explain(report: UploadReport) -> str:
    return "\n".join(f"{'✓' if c.passed else '✗'} {c.code}: {c.reason}" for c in report.checks)


def _genuine(corpus: Corpus, which: str) -> Genuine:
    return corpus.genuine[which] if which in corpus.genuine else getattr(corpus, which)


@pytest.mark.parametrize(
    "which", [*KINDS, "other_agreement", "reissued_certificate", "revoked_unit_agreement"]
)
def test_genuine_document_is_valid(which: str, corpus: Corpus, db: Session, archive: Archive) -> None:
    """Including an agreement whose unit's certificate was revoked *after* it signed: a signature
    is judged at its timestamp, so revoking a key later does not undo what it signed before."""
    g = _genuine(corpus, which)
    report = verify_upload(db, archive, g.pdf)
    assert report.verdict is Verdict.VALID, explain(report)
    assert all(c.passed for c in report.checks) and len(report.checks) == 17
    assert report.document is not None and report.document.id == g.document_id
    signed = [s for s in report.signatures if not s.doc_timestamp]
    assert [s.field_name for s in signed] == [f"sig_{p}" for p in KINDS[g.kind].parties]
    assert sum(s.doc_timestamp for s in report.signatures) == 1


def test_every_forgery_names_a_check_that_exists() -> None:
    from service.verification.upload import ALL_CHECKS

    assert {f.expect for f in FORGERIES} <= set(ALL_CHECKS)
    assert len({f.id for f in FORGERIES}) == len(FORGERIES)


_CASES = cases()


@pytest.mark.parametrize(("forgery", "kind"), _CASES, ids=[f"{f.id}-{k}" for f, k in _CASES])
def test_forgery_is_rejected(
    forgery: Forgery, kind: str, corpus: Corpus, db: Session, archive: Archive
) -> None:
    data = forgery.make(kit(corpus, kind))
    report = verify_upload(db, archive, data)
    assert report.verdict is not Verdict.VALID, explain(report)
    assert forgery.expect in report.failed(), (
        f"{forgery.id}: expected {forgery.expect} to fail\n{explain(report)}"
    )


def pyhanko_summary_ok(pdf: bytes) -> bool:
    """What a verifier that trusts pyHanko's per-signature bottom line would say."""
    vc = validation_context(pki.trust())
    found = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    return bool(found) and all(validate_pdf_signature(e, vc, vc).bottom_line for e in found)


#: Forgeries that pass a verifier trusting pyHanko's per-signature bottom line.
PYHANKO_MISSES = (
    "appended_after_eof",
    "truncated_before_doc_timestamp",
    "truncated_before_last_party",
    "wrong_party",
    "wrong_person",
    "swapped_roles",
    "revision_between_signatures",
    "info_changed",
    "metadata_changed",
    "unknown_subfilter",
    "revoked_document",
    "superseded_document",
    "xref_lists_object_twice",
    "cms_rewritten_without_keys",
)


@pytest.mark.parametrize("forgery_id", PYHANKO_MISSES)
def test_pyhanko_alone_accepts_what_the_strict_checks_reject(forgery_id: str, corpus: Corpus) -> None:
    """Why the strict checks exist: without them these forgeries pass as valid."""
    forgery = next(f for f in FORGERIES if f.id == forgery_id)
    kind = "agreement" if "agreement" in forgery.kinds else forgery.kinds[0]
    assert pyhanko_summary_ok(forgery.make(kit(corpus, kind)))


def test_an_unreadable_seal_is_not_called_an_unregistered_change(
    corpus: Corpus, db: Session, archive: Archive
) -> None:
    """With the notice's only seal unreadable, where signing began is unknown, and the report says so."""
    report = verify_upload(db, archive, contents_empty(kit(corpus, "notice")))
    first = next(c for c in report.checks if c.code == "first_revision")
    assert not first.passed and first.reason == "文件中有无法解析的签名，无法确定签署前的原始内容"
    assert "signature_format" in report.failed()


def _red_share(pdf: bytes, tmp: Path) -> float:
    """How much of page 1, as poppler draws it, is the forger's red."""
    subprocess.run(
        ["pdftoppm", "-r", "20", "-f", "1", "-l", "1", "-png", "-singlefile", "-", str(tmp / "page")],
        input=pdf, capture_output=True, check=True,
    )  # fmt: skip
    image = Image.open(tmp / "page.png").convert("RGB")
    pixels = image.width * image.height
    red = sum(n for n, (r, g, b) in image.getcolors(pixels) or [] if r > 200 and g < 60 and b < 60)
    return red / pixels


def test_an_object_listed_twice_shows_a_viewer_what_pyhanko_does_not_see(
    corpus: Corpus, tmp_path: Path
) -> None:
    """The forgery is real: poppler draws the forged page, pyHanko reads the signed one."""
    genuine = corpus.genuine["notice"].pdf
    forged = xref_lists_object_twice(kit(corpus, "notice"))
    assert _red_share(genuine, tmp_path) < 0.05 and _red_share(forged, tmp_path) > 0.5

    def first_content(pdf: bytes) -> bytes:
        page = PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Kids"][0].get_object()
        contents = page["/Contents"]
        return bytes((contents[0] if isinstance(contents, list) else contents).data)

    assert first_content(forged) == first_content(genuine)


def test_bytes_alone_pass_but_layout_checks_need_the_registry(corpus: Corpus) -> None:
    """``signing.verify`` without a registry: every byte-level check passes on a genuine file, and
    the checks that need to know who should have signed fail, saying why."""
    from signing.verify import verify_pdf

    result = verify_pdf(corpus.genuine["agreement"].pdf, pki.trust())
    assert result.verdict is Verdict.INVALID
    failed = {c.code: c.reason for c in result.checks if not c.passed}
    assert set(failed) == {"fields", "binding", "order", "complete"}
    assert all("没有登记记录" in reason for reason in failed.values())
