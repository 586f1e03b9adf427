"""Certificate and CRL builders: pure functions over key objects, no storage.

Profiles: root CA → issuing CA → (TSA, one end-entity per signing party). The directory
facade that uses them is :class:`signing.pki.Pki`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import PkiError
from .keys import PrivateKey

__all__ = [
    "CertSubject",
    "Revocation",
    "build_crl",
    "create_issuing_ca",
    "create_root_ca",
    "create_tsa",
    "issue_signing_cert",
]

_BACKDATE = timedelta(minutes=5)  # tolerate small clock skew between hosts


@dataclass(frozen=True)
class CertSubject:
    """The subject of a signer's certificate.

    ``serial_number`` is the organization's 统一社会信用代码 where known; for a volunteer it
    is a pseudonymous serial chosen by the caller — never an ID card number.
    """

    common_name: str
    """Name shown to verifiers (organization name or the volunteer's name)."""
    organization: str | None = None
    """The organization the signer belongs to or acts for."""
    serial_number: str | None = None
    """统一社会信用代码 or a pseudonymous serial."""
    organizational_unit: str | None = None
    """Optional unit, e.g. 服务县项目办."""

    def to_name(self) -> x509.Name:
        """As an X.509 distinguished name (C=CN)."""
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
        if self.organization:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        if self.organizational_unit:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.organizational_unit))
        attrs.append(_cn(self.common_name))
        if self.serial_number:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, self.serial_number))
        return x509.Name(attrs)


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate as listed in a CRL."""

    serial: int
    """Certificate serial number."""
    reason: x509.ReasonFlags
    """RFC 5280 reason code."""
    revoked_at: datetime
    """When the revocation takes effect (UTC)."""


def _cn(value: str) -> x509.NameAttribute:
    """A commonName; RFC 5280 limits it to 64 *characters*, cryptography checks 64 bytes,
    which would cut Chinese names at ~21 characters."""
    if not 1 <= len(value) <= 64:
        raise PkiError("证书名称过长（最多 64 个字符）。", f"CN length {len(value)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return x509.NameAttribute(NameOID.COMMON_NAME, value, _validate=False)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def _ca_builder(subject: x509.Name, key: PrivateKey, now: datetime, years: int) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(_ski(key), critical=False)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    )


def create_root_ca(
    key: PrivateKey, common_name: str, *, now: datetime | None = None, years: int = 20
) -> x509.Certificate:
    """A self-signed root: the trust anchor published at ``/pki/root.pem``.

    :param key: the root's private key.
    :param common_name: e.g. ``西部计划内蒙古项目办 根证书``.
    :param now: issuance time (tests); defaults to the current time.
    :param years: validity.
    """
    t = _now(now)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)])
    builder = _ca_builder(name, key, t, years).issuer_name(name)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
    return builder.sign(key, hashes.SHA256())


def create_issuing_ca(
    key: PrivateKey,
    root_key: PrivateKey,
    root_cert: x509.Certificate,
    common_name: str,
    *,
    public_url: str,
    now: datetime | None = None,
    years: int = 10,
) -> x509.Certificate:
    """The CA that issues every party certificate and the TSA certificate.

    :param public_url: base URL of the service; the root CRL is ``{public_url}/pki/root-crl``.
    """
    t = _now(now)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)])
    builder = (
        _ca_builder(name, key, t, years)
        .issuer_name(root_cert.subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .add_extension(_cdp(f"{public_url.rstrip('/')}/pki/root-crl"), critical=False)
    )
    return builder.sign(root_key, hashes.SHA256())


def _leaf_builder(
    subject: x509.Name,
    key_public: object,
    issuer_key: PrivateKey,
    issuer_cert: x509.Certificate,
    public_url: str,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    base = public_url.rstrip("/")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(key_public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), issuer_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
        .add_extension(_cdp(f"{base}/pki/crl"), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(f"{base}/pki/issuing.pem"),
                    )
                ]
            ),
            critical=False,
        )
    )


def create_tsa(
    key: PrivateKey,
    issuer_key: PrivateKey,
    issuer_cert: x509.Certificate,
    common_name: str,
    *,
    public_url: str,
    now: datetime | None = None,
    days: int = 365 * 5,
) -> x509.Certificate:
    """The built-in TSA's certificate (extendedKeyUsage timeStamping, critical, per RFC 3161)."""
    t = _now(now)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)])
    builder = (
        _leaf_builder(name, key.public_key(), issuer_key, issuer_cert, public_url, t, days)
        .add_extension(_ski(key), critical=False)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def issue_signing_cert(
    public_key: object,
    subject: CertSubject,
    issuer_key: PrivateKey,
    issuer_cert: x509.Certificate,
    *,
    public_url: str,
    now: datetime | None = None,
    days: int = 365 * 3,
) -> x509.Certificate:
    """An end-entity certificate for document signatures.

    keyUsage is digitalSignature + nonRepudiation (contentCommitment): PAdES signers commit
    to content. Validity is capped at the issuing CA's.

    :param public_key: the party's public key (``key.public_key()``).
    :param subject: who the certificate names.
    :param public_url: service base URL for the CRL distribution point and AIA.
    """
    t = _now(now)
    builder = (
        _leaf_builder(subject.to_name(), public_key, issuer_key, issuer_cert, public_url, t, days)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def build_crl(
    issuer_key: PrivateKey,
    issuer_cert: x509.Certificate,
    revoked: list[Revocation],
    *,
    crl_number: int,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=7),
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer_key`` listing ``revoked``.

    :param crl_number: monotonically increasing number (RFC 5280 §5.2.3).
    :param valid_for: nextUpdate - thisUpdate; republish before it elapses.
    """
    t = _now(now)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(t - _BACKDATE)
        .next_update(t + valid_for)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    for r in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(r.serial)
            .revocation_date(r.revoked_at.astimezone(UTC))
            .add_extension(x509.CRLReason(r.reason), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer_key, hashes.SHA256())
