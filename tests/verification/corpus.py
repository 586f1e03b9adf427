"""Genuine signed documents of every kind, in a real registry, for the upload-verification tests.

Everything is real: the documents service renders through LibreOffice, notices and certificates
are sealed at issuance by the region office, and the other kinds are signed party by party with
each party's certificate from our PKI (the first certifies, the last is followed by B-LTA), the
registry getting exactly the rows a completed online signing leaves (revisions, one signed
request per party naming its certificate, ``signing_state`` completed).

The world is built once per test module (it takes a few seconds of LibreOffice and signing), so
the tests that use it must not use the function-scoped ``engine`` fixture, which empties every table
after each test: :func:`wipe` does that once, when the module is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from doc_templates.kinds import get_kind
from service.cohorts import service as cohorts
from service.documents import service as documents
from service.documents.converter import Converter
from service.organizations.service import county_office, region_office
from service.pki import service as pki
from service.pki.fields import fields_for, role_label
from signing import SignerSpec, StampSpec, finish_lta, sign_pdf
from storage.archive import Archive
from storage.models import (
    Appraisal,
    Document,
    DocumentRevision,
    Organization,
    Post,
    RequestStatus,
    ServiceTerm,
    SigningRequest,
    Volunteer,
)
from tests.api.factories import create_unit, create_volunteer

COHORT = "2020-2021"
LEAGUE, COUNTY = "呼和浩特市", "武川县"
KEEP_TABLES = {"appraisalgrade", "alembic_version"}


@dataclass
class Genuine:
    """One registered document and its archived states."""

    document_id: int
    kind: str
    term_id: int
    pdf: bytes
    """The newest revision (what the office hands out)."""
    states: list[tuple[str, bytes]]
    """Every archived state, oldest first: ``(reason, bytes)``, reason as in DocumentRevision."""
    signers: dict[str, SignerSpec]
    """Key and certificate each of the kind's parties signed with."""

    def state(self, reason: str) -> bytes:
        return next(data for r, data in self.states if r == reason)

    @property
    def rendered(self) -> bytes:
        return self.state("rendered")


@dataclass
class Corpus:
    genuine: dict[str, Genuine]
    """One fully signed document of each kind, all for the first volunteer."""
    other_agreement: Genuine
    """Another volunteer's agreement with the same county office and unit."""
    revoked_notice: Genuine
    superseded_certificate: Genuine
    reissued_certificate: Genuine
    revoked_unit_agreement: Genuine
    """Signed genuinely by a unit whose certificate was revoked afterwards."""
    signers: dict[str, SignerSpec]
    """Key and certificate of each party of the first volunteer's documents."""
    other_volunteer: SignerSpec
    revoked_unit: SignerSpec
    revoked_at: datetime
    names: dict[str, str] = field(default_factory=dict)


def _parties(session: Session, term: ServiceTerm) -> dict[str, tuple[Organization | None, Volunteer | None]]:
    post = session.get(Post, term.post_id)
    volunteer = session.get(Volunteer, term.volunteer_id)
    assert post is not None and volunteer is not None
    return {
        "region_office": (region_office(session), None),
        "county_office": (county_office(session, post.league, post.county), None),
        "unit": (session.get(Organization, post.unit_id), None),
        "volunteer": (None, volunteer),
    }


def _genuine(session: Session, archive: Archive, doc: Document) -> Genuine:
    """The registered document with its archived states and the specs its parties signed with."""
    assert doc.id is not None and doc.term_id is not None
    revisions = session.exec(
        select(DocumentRevision)
        .where(DocumentRevision.document_id == doc.id)
        .order_by(col(DocumentRevision.seq))
    ).all()
    states = [(r.reason, archive.get(r.sha256)) for r in revisions]
    signers = {party: signer_of(session, doc.term_id, party) for party in get_kind(doc.kind).parties}
    return Genuine(doc.id, doc.kind, doc.term_id, archive.get(doc.current_sha256), states, signers)


def sign_every_party(
    session: Session, archive: Archive, doc: Document, *, upto: int | None = None
) -> Document:
    """Sign ``doc`` by each of its kind's parties in order and finish it to B-LTA, recording in the
    registry what a completed online signing records.

    :param upto: stop after this many parties: the document is then pending (the others waiting).
    """
    assert doc.id is not None and doc.term_id is not None
    kind = get_kind(doc.kind)
    term = session.get(ServiceTerm, doc.term_id)
    assert term is not None
    parties = _parties(session, term)
    fields = fields_for(kind, archive.get(doc.rendered_sha256))
    pdf = archive.get(doc.current_sha256)
    tsa = pki.timestamper()
    seq = len(session.exec(select(DocumentRevision.id).where(DocumentRevision.document_id == doc.id)).all())
    for position, party in enumerate(kind.parties):
        org, volunteer = parties[party]
        if upto is not None and position >= upto:
            status = RequestStatus.OPEN if position == upto else RequestStatus.WAITING
            session.add(
                SigningRequest(
                    document_id=doc.id,
                    party=party,
                    position=position,
                    status=status.value,
                    organization_id=org.id if org is not None else None,
                    volunteer_id=volunteer.id if volunteer is not None else None,
                )
            )
            continue
        record, spec = pki.signer_for(session, organization=org, volunteer=volunteer)
        name = org.name if org is not None else (volunteer.name if volunteer is not None else "")
        pdf = sign_pdf(
            pdf,
            spec,
            fields[position],
            timestamper=tsa,
            certify=position == 0,
            later_fields=fields[1:] if position == 0 else (),
            stamp=StampSpec(role=role_label(kind, party), signer_name=name),
            fonts=pki.stamp_fonts(),
        )
        seq += 1
        session.add(
            DocumentRevision(document_id=doc.id, seq=seq, sha256=archive.put(pdf), reason=f"signed:{party}")
        )
        session.add(
            SigningRequest(
                document_id=doc.id,
                party=party,
                position=position,
                status=RequestStatus.SIGNED.value,
                organization_id=org.id if org is not None else None,
                volunteer_id=volunteer.id if volunteer is not None else None,
                certificate_id=record.id,
                signed_at=datetime.now(UTC),
            )
        )
    if upto is not None:
        doc.current_sha256, doc.signing_state = archive.put(pdf), "pending"
        session.flush()
        return doc
    final = finish_lta(pdf, pki.trust(), timestamper=tsa)
    seq += 1
    key = archive.put(final)
    session.add(DocumentRevision(document_id=doc.id, seq=seq, sha256=key, reason="timestamped"))
    doc.current_sha256, doc.signing_state, doc.version = key, "completed", doc.version + len(kind.parties)
    session.flush()
    return doc


def issue_signed(
    session: Session, archive: Archive, converter: Converter, kind: str, term_id: int
) -> Document:
    """A genuine document of ``kind``: sealed at issuance, or signed by every party."""
    doc = documents.issue_one(session, archive, converter, kind, term_id, year=1)
    if doc.kind in ("notice", "certificate"):
        return doc
    return sign_every_party(session, archive, doc)


def signer_of(session: Session, term_id: int, party: str) -> SignerSpec:
    term = session.get(ServiceTerm, term_id)
    assert term is not None
    org, volunteer = _parties(session, term)[party]
    return pki.signer_for(session, organization=org, volunteer=volunteer)[1]


def build(engine: Engine, archive: Archive, converter: Converter) -> Corpus:
    """The whole world; takes LibreOffice and a few dozen signatures."""
    with Session(engine, expire_on_commit=False) as session:
        cohort = cohorts.get_or_create(session, COHORT)
        cohort.signing_deadline = date.today() + timedelta(days=30)
        unit = create_unit(session, LEAGUE, COUNTY, "武川县第一中学")
        unit2 = create_unit(session, LEAGUE, COUNTY, "武川县第二中学")
        v1, t1 = create_volunteer(session, cohort, unit, name="张三丰")
        _v2, t2 = create_volunteer(session, cohort, unit, name="李四")
        _v3, t3 = create_volunteer(session, cohort, unit2, name="王五")
        for term in (t1, t2, t3):
            assert term.id is not None
            session.add(Appraisal(term_id=term.id, service_year=1, grade="合格"))
        session.commit()
        assert t1.id is not None and t2.id is not None and t3.id is not None

        docs = {
            kind: issue_signed(session, archive, converter, kind, t1.id)
            for kind in ("notice", "agreement", "appraisal", "evaluation", "certificate")
        }
        other = issue_signed(session, archive, converter, "agreement", t2.id)
        revoked = issue_signed(session, archive, converter, "notice", t2.id)
        superseded = issue_signed(session, archive, converter, "certificate", t2.id)
        session.commit()
        reissued = documents.issue_one(
            session, archive, converter, "certificate", t2.id, reissue_reason="更正服务单位名称"
        )
        assert revoked.id is not None
        documents.revoke(session, revoked.id, "志愿者未按时报到，确认通知书作废")
        unit2_agreement = issue_signed(session, archive, converter, "agreement", t3.id)
        session.commit()

        signers = {
            p: signer_of(session, t1.id, p) for p in ("region_office", "county_office", "unit", "volunteer")
        }
        other_volunteer = signer_of(session, t2.id, "volunteer")
        revoked_unit = signer_of(session, t3.id, "unit")
        genuine = {k: _genuine(session, archive, d) for k, d in docs.items()}
        found = [
            _genuine(session, archive, d) for d in (other, revoked, superseded, reissued, unit2_agreement)
        ]
        # The CRL says when to the second: let the genuine signatures be clearly earlier.
        time.sleep(1.1)
        serial = f"{revoked_unit.cert.serial_number:x}"
        record = pki.revoke(session, serial, "私钥泄露")
        session.commit()
        assert record.revoked_at is not None
        time.sleep(1.1)  # and what the forgeries sign with the revoked key clearly later
        corpus = Corpus(
            genuine=genuine,
            other_agreement=found[0],
            revoked_notice=found[1],
            superseded_certificate=found[2],
            reissued_certificate=found[3],
            revoked_unit_agreement=found[4],
            signers=signers,
            other_volunteer=other_volunteer,
            revoked_unit=revoked_unit,
            revoked_at=record.revoked_at,
            names={"volunteer": v1.name},
        )
        session.commit()
        return corpus


@dataclass
class Small:
    """One volunteer's completed agreement and pending (half-signed) appraisal."""

    agreement: Genuine
    pending: Genuine


def build_small(engine: Engine, archive: Archive, converter: Converter) -> Small:
    with Session(engine, expire_on_commit=False) as session:
        cohort = cohorts.get_or_create(session, COHORT)
        unit = create_unit(session, LEAGUE, COUNTY, "武川县第三中学")
        _volunteer, term = create_volunteer(session, cohort, unit, name="赵六")
        session.commit()
        assert term.id is not None
        agreement = issue_signed(session, archive, converter, "agreement", term.id)
        appraisal = documents.issue_one(session, archive, converter, "appraisal", term.id, year=1)
        pending = sign_every_party(session, archive, appraisal, upto=1)
        session.commit()
        return Small(_genuine(session, archive, agreement), _genuine(session, archive, pending))


def wipe(engine: Engine) -> None:
    """Empty every table the tests wrote (what the ``engine`` fixture does after each test)."""
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in KEEP_TABLES:
                conn.execute(table.delete())
