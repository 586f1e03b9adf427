"""Our PKI as the service uses it: the master key, certificates per party issued on first need,
revocation, the timestamp authority and the trust anchors verifiers use.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from service.config import Settings, get_settings
from service.errors import AppError, NotFound
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
    return TrustSpec(roots=(p.root_cert,), crls=p.crls(), intermediates=(p.issuing_cert,))


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
    return session.exec(stmt.order_by(col(SignerCertificate.id).desc())).first()


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
    return record, p.signer(record.key_id, x509.load_pem_x509_certificate(record.cert_pem.encode()))


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
