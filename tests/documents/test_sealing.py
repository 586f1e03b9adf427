"""Notices and certificates leave issuance sealed by the region office, at the template's anchor."""

from __future__ import annotations

import subprocess
import tempfile

from sqlmodel import Session, select

from doc_templates.anchors import find_anchors
from service.documents import service
from service.documents.converter import PoolConverter
from service.documents.sealing import SEAL_SIZE
from service.pki.service import trust
from signing import validate_pdf
from storage.archive import Archive
from storage.models import DocumentRevision, ServiceTerm, SignerCertificate
from tests.documents.conftest import load_cohort


def test_notice_is_sealed_verifiable_and_placed_at_its_anchor(
    engine, converter: PoolConverter, archive: Archive
) -> None:
    load_cohort(engine, 1, seed=41)
    with Session(engine) as session:
        term = session.exec(select(ServiceTerm)).one()
        assert term.id is not None
        doc = service.issue_one(session, archive, converter, "notice", term.id)
        session.commit()
        revisions = session.exec(
            select(DocumentRevision)
            .where(DocumentRevision.document_id == doc.id)
            .order_by(DocumentRevision.seq)  # type: ignore[arg-type]
        ).all()
        certificates = session.exec(select(SignerCertificate)).all()
    assert [r.reason for r in revisions] == ["rendered", "sealed:region_office"]
    assert len(certificates) == 1 and certificates[0].organization_id is not None
    sealed = archive.get(doc.current_sha256)
    rendered = archive.get(doc.rendered_sha256)
    assert sealed.startswith(rendered), "the seal is an incremental update over the rendered PDF"

    status = validate_pdf(sealed, trust())
    assert status.ok, status
    (sig,) = status.signatures
    assert sig.field_name == "sig_region_office" and sig.trusted and sig.timestamp_ok
    assert status.doc_timestamps == 1 and status.doc_timestamps_ok, (
        "finished to B-LTA with a document timestamp"
    )

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(sealed)
        f.flush()
        out = subprocess.run(["pdfsig", "-nocert", f.name], capture_output=True, text=True).stdout
    assert "Signature is Valid." in out

    # The visible field sits where the template's anchor is.
    anchor = find_anchors(rendered)["region_office"]
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(sealed))
    widgets = [a.get_object() for a in reader.pages[anchor.page_index].get("/Annots", [])]
    (widget,) = [w for w in widgets if w.get("/T") == "sig_region_office"]
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    cx, cy = (anchor.x0 + anchor.x1) / 2, (anchor.y0 + anchor.y1) / 2
    assert x1 < cx < x2 and y1 < cy < y2

    # It is drawn as an office seal: a round red stamp the size of a real one (40 mm), inked with
    # the multiply blend mode so the printed issuer name and date under it stay black and legible.
    assert abs((x2 - x1) - SEAL_SIZE) <= 1 and abs((y2 - y1) - SEAL_SIZE) <= 1
    appearance = widget["/AP"]["/N"].get_object()
    assert appearance["/Resources"]["/ExtGState"]["/Seal"]["/BM"] == "/Multiply"
    ops = appearance.get_data()
    assert b"0.85 0.08 0.08 RG" in ops and b" c h S" in ops, "a red ring"
