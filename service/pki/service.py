"""Our PKI as the service uses it: the master key, certificates per party issued on first need,
revocation, the timestamp authority and the trust anchors verifiers use.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from service.config import Settings, get_settings
from service.errors import AppError, Conflict, NotFound
from signing import (
    CertSubject,
    LocalTimeStamper,
    MasterKey,
    Pki,
    SignerSpec,
    StampFonts,
    TimeStamper,
    TrustSpec,
    http_timestamper,
    import_pkcs12,
    prepare_fonts,
)
from storage.models import Organization, SignerCertificate, Volunteer

VOLUNTEER_ORG = "大学生志愿服务西部计划志愿者"
_issue_lock = threading.Lock()


def load_master_key(settings: Settings) -> MasterKey:
    """From XIBU_MASTER_KEY, else XIBU_MASTER_KEY_FILE, else (development) ``<data>/master.key``."""
    if settings.master_key:
        return MasterKey.from_value(settings.master_key)
    path = settings.master_key_file or settings.data_dir / "master.key"
    if not path.exists():
        if settings.environment == "production":
            raise AppError("主密钥文件不存在", status=500, code="master_key_missing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return MasterKey.from_file(path)


def ensure_pki(settings: Settings | None = None) -> Pki:
    """Create the root CA, issuing CA and TSA if this installation has none (``xibu init``)."""
    settings = settings or get_settings()
    master = load_master_key(settings)
    if (settings.pki_dir / "root.pem").exists():
        return Pki(settings.pki_dir, master, settings.public_url)
    return Pki.create(settings.pki_dir, master, settings.public_url)


@lru_cache
def pki() -> Pki:
    settings = get_settings()
    return Pki(settings.pki_dir, load_master_key(settings), settings.public_url)


@lru_cache
def timestamper() -> TimeStamper:
    """The configured TSA; signing fails if it fails (never the server clock in its place)."""
    settings = get_settings()
    if settings.tsa_url:
        return http_timestamper(settings.tsa_url)
    p = pki()
    return LocalTimeStamper(p.tsa_key(), p.tsa_cert, (p.issuing_cert, p.root_cert))


@lru_cache
def stamp_fonts() -> StampFonts:
    """Pre-subset CJK faces for visible stamps, cached in the data folder (built at ``xibu init``)."""
    return prepare_fonts(get_settings().cache_path / "stamp-fonts")


def trust() -> TrustSpec:
    """What our verifiers trust: our root, our current CRLs, and external roots of imported signers."""
    p = pki()
    roots, intermediates = external_certificates()
    return TrustSpec(
        roots=(p.root_cert, *roots), crls=current_crls(), intermediates=(p.issuing_cert, *intermediates)
    )


def current_crls() -> tuple[bytes, bytes]:
    """(issuing CA CRL, root CRL) as last published by *any* process (``Pki.crls()`` re-reads the
    published files whenever they change, and republishes a day-old pair)."""
    return pki().crls()


def _external_dir() -> Path:
    return get_settings().pki_dir / "external"


def external_certificates() -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(roots, intermediates) that came with imported PKCS#12 files.

    Kept as files beside our PKI rather than read from the database, so ``trust()`` needs no
    session. Only an administrator's ``xibu pki import-p12`` writes them: importing a file is
    the decision to trust its CA.
    """
    roots: list[x509.Certificate] = []
    intermediates: list[x509.Certificate] = []
    folder = _external_dir()
    if not folder.exists():
        return roots, intermediates
    for path in sorted(folder.glob("*.pem")):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        (roots if cert.issuer == cert.subject else intermediates).append(cert)
    return roots, intermediates


def import_p12(
    session: Session, organization: Organization, data: bytes, password: str | None
) -> SignerCertificate:
    """Register an organization's own certificate (PKCS#12 from an external CA); it signs from now on."""
    spec = import_pkcs12(data, password)
    serial = f"{spec.cert.serial_number:x}"
    if session.exec(select(SignerCertificate).where(SignerCertificate.serial == serial)).first():
        raise Conflict(f"证书{serial}已导入")
    p = pki()
    key_id = f"org-{organization.id}-p12-{secrets.token_hex(4)}"
    p.keys.put(key_id, spec.key)
    folder = _external_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for cert in spec.chain:
        fingerprint = cert.fingerprint(hashes.SHA256()).hex()[:32]
        (folder / f"{fingerprint}.pem").write_bytes(cert.public_bytes(Encoding.PEM))
    record = SignerCertificate(
        organization_id=organization.id,
        serial=serial,
        key_id=key_id,
        subject=spec.cert.subject.rfc4514_string()[:400],
        cert_pem=b"".join(c.public_bytes(Encoding.PEM) for c in (spec.cert, *spec.chain)).decode(),
        external=True,
        not_after=spec.cert.not_valid_after_utc,
    )
    session.add(record)
    session.flush()
    return record


def _active(
    session: Session, *, organization_id: int | None, volunteer_id: int | None
) -> SignerCertificate | None:
    stmt = select(SignerCertificate).where(
        col(SignerCertificate.active).is_(True), col(SignerCertificate.revoked_at).is_(None)
    )
    if organization_id is not None:
        stmt = stmt.where(SignerCertificate.organization_id == organization_id)
    else:
        stmt = stmt.where(SignerCertificate.volunteer_id == volunteer_id)
    # An organization's own certificate (imported PKCS#12) wins over the one our CA issued it.
    order = (col(SignerCertificate.external).desc(), col(SignerCertificate.id).desc())
    return session.exec(stmt.order_by(*order)).first()


def _subject_for(org: Organization | None, volunteer: Volunteer | None) -> CertSubject:
    if org is not None:
        return CertSubject(
            common_name=org.name,
            organization=org.name,
            serial_number=org.credit_code,
            organizational_unit=org.kind,
        )
    assert volunteer is not None
    # A pseudonym, never the ID number: a certificate is public to everyone who checks a signature.
    return CertSubject(
        common_name=volunteer.name,
        organization=VOLUNTEER_ORG,
        serial_number=f"XIBU-V{secrets.token_hex(8).upper()}",
    )


def signer_for(
    session: Session, *, organization: Organization | None = None, volunteer: Volunteer | None = None
) -> tuple[SignerCertificate, SignerSpec]:
    """The party's current certificate and key, issued on first need."""
    org_id = organization.id if organization else None
    vol_id = volunteer.id if volunteer else None
    if (org_id is None) == (vol_id is None):
        raise ValueError("exactly one of organization and volunteer")
    record = _active(session, organization_id=org_id, volunteer_id=vol_id)
    p = pki()
    if record is None:
        with _issue_lock:
            key_id = f"{'org' if org_id else 'vol'}-{org_id or vol_id}-{secrets.token_hex(4)}"
            cert = p.issue(_subject_for(organization, volunteer), key_id)
            record = SignerCertificate(
                organization_id=org_id,
                volunteer_id=vol_id,
                serial=f"{cert.serial_number:x}",
                key_id=key_id,
                subject=cert.subject.rfc4514_string()[:400],
                cert_pem=cert.public_bytes(Encoding.PEM).decode(),
                not_after=cert.not_valid_after_utc,
            )
            session.add(record)
            session.flush()
    if record.external:  # cert_pem holds the leaf, then the chain the PKCS#12 carried
        leaf, *chain = x509.load_pem_x509_certificates(record.cert_pem.encode())
        return record, SignerSpec(key=p.keys.load(record.key_id), cert=leaf, chain=tuple(chain))
    return record, p.signer(record.key_id, x509.load_pem_x509_certificate(record.cert_pem.encode()))


def active_certificates(
    session: Session, *, organization_id: int | None = None, volunteer_id: int | None = None
) -> list[SignerCertificate]:
    """A party's unrevoked certificates (normally one; an imported one may sit beside ours)."""
    if (organization_id is None) == (volunteer_id is None):
        raise ValueError("exactly one of organization_id and volunteer_id")
    stmt = select(SignerCertificate).where(col(SignerCertificate.revoked_at).is_(None))
    if organization_id is not None:
        stmt = stmt.where(SignerCertificate.organization_id == organization_id)
    else:
        stmt = stmt.where(SignerCertificate.volunteer_id == volunteer_id)
    return list(session.exec(stmt.order_by(col(SignerCertificate.id))).all())


def revoke(
    session: Session, serial: str, reason: str, flag: x509.ReasonFlags = x509.ReasonFlags.unspecified
) -> SignerCertificate:
    """Revoke a signer's certificate and republish the CRL; the party gets a new one on next need."""
    record = session.exec(select(SignerCertificate).where(SignerCertificate.serial == serial.lower())).first()
    if record is None:
        raise NotFound(f"证书{serial}不存在")
    if record.revoked_at is not None:
        return record
    now = datetime.now(UTC)
    if not record.external:
        pki().revoke(int(record.serial, 16), flag, at=now)
    record.revoked_at, record.revocation_reason, record.active = now, reason, False
    session.flush()
    return record
