"""Our own small PKI: root CA → issuing CA → TSA and one certificate per signing party.

Pure functions build certificates and CRLs from key objects; :class:`Pki` keeps them in a
directory (certificates and CRLs in clear, keys sealed by :class:`~signing.keys.KeyStore`).
Revocation data is published as CRLs — the issuing CA's at ``{public_url}/pki/crl`` and the
root's at ``{public_url}/pki/root-crl`` — because long-term validation comes out
"indeterminate" without revocation data (field notes).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .errors import PkiError
from .keys import KeyStore, MasterKey, PrivateKey, SignerSpec, generate_key

__all__ = [
    "CertSubject",
    "Pki",
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
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)]
    )
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
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)]
    )
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
    name = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), _cn(common_name)]
    )
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


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Pki:
    """Directory-backed facade: ``root.pem``, ``issuing.pem``, ``tsa.pem``, ``certs/``,
    ``keys/`` (sealed), ``revoked.json`` and the two CRLs (DER).

    The service keeps which party owns which certificate serial and key id; this class only
    knows certificates by serial and keys by id.
    """

    ROOT_KEY, ISSUING_KEY, TSA_KEY = "root-ca", "issuing-ca", "tsa"

    def __init__(self, directory: str | os.PathLike[str], master_key: MasterKey, public_url: str) -> None:
        self.dir = Path(directory)
        self.public_url = public_url.rstrip("/")
        self.keys = KeyStore(self.dir / "keys", master_key)
        self._lock = threading.Lock()
        self._crl_cache: tuple[bytes, bytes] | None = None
        if not (self.dir / "root.pem").exists():
            raise PkiError("尚未初始化证书体系，请先运行 xibu init。", f"no root.pem in {self.dir}")
        self.root_cert = self._read_cert("root.pem")
        self.issuing_cert = self._read_cert("issuing.pem")
        self.tsa_cert = self._read_cert("tsa.pem")

    @classmethod
    def create(
        cls,
        directory: str | os.PathLike[str],
        master_key: MasterKey,
        public_url: str,
        *,
        org_name: str = "内蒙古自治区西部计划项目办",
        now: datetime | None = None,
    ) -> Pki:
        """Create root CA, issuing CA and TSA (``xibu init``); refuses an existing PKI.

        :param org_name: prefix of the CA and TSA common names.
        """
        d = Path(directory)
        if (d / "root.pem").exists():
            raise PkiError("证书体系已存在，不能重复初始化。", f"{d}/root.pem exists")
        d.mkdir(parents=True, exist_ok=True)
        store = KeyStore(d / "keys", master_key)
        root_key, issuing_key, tsa_key = generate_key(), generate_key(), generate_key()
        root = create_root_ca(root_key, f"{org_name} 根证书", now=now)
        issuing = create_issuing_ca(
            issuing_key, root_key, root, f"{org_name} 签发证书", public_url=public_url, now=now
        )
        tsa = create_tsa(tsa_key, issuing_key, issuing, f"{org_name} 时间戳服务", public_url=public_url, now=now)
        store.put(cls.ROOT_KEY, root_key)
        store.put(cls.ISSUING_KEY, issuing_key)
        store.put(cls.TSA_KEY, tsa_key)
        (d / "certs").mkdir(exist_ok=True)
        _write_atomic(d / "issuing.pem", _pem(issuing))
        _write_atomic(d / "tsa.pem", _pem(tsa))
        _write_atomic(d / "revoked.json", b"[]")
        _write_atomic(d / "root.pem", _pem(root))  # last: its presence means "initialised"
        return cls(d, master_key, public_url)

    def _read_cert(self, name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.dir / name).read_bytes())

    @property
    def root_pem(self) -> bytes:
        """The trust anchor, as served at ``/pki/root.pem``."""
        return _pem(self.root_cert)

    def issue(self, subject: CertSubject, key_id: str, *, now: datetime | None = None) -> x509.Certificate:
        """Generate a key for ``key_id``, seal it, and issue its signing certificate.

        :param key_id: the caller's stable id for this party's key (e.g. ``org-<id>``).
        """
        key = generate_key()
        cert = issue_signing_cert(
            key.public_key(),
            subject,
            self.keys.load(self.ISSUING_KEY),
            self.issuing_cert,
            public_url=self.public_url,
            now=now,
        )
        self.keys.put(key_id, key)
        _write_atomic(self.dir / "certs" / f"{cert.serial_number:x}.pem", _pem(cert))
        return cert

    def certificate(self, serial: int) -> x509.Certificate:
        """A certificate this PKI issued, by serial."""
        try:
            return self._read_cert(f"certs/{serial:x}.pem")
        except FileNotFoundError:
            raise PkiError("找不到该证书。", f"serial {serial:x}") from None

    def signer(self, key_id: str, cert: x509.Certificate) -> SignerSpec:
        """The :class:`SignerSpec` for a party's (cached) key and its certificate."""
        return SignerSpec(key=self.keys.load(key_id), cert=cert, chain=(self.issuing_cert,))

    def tsa_key(self) -> PrivateKey:
        """The built-in TSA's key (for :class:`~signing.timestamps.LocalTimeStamper`)."""
        return self.keys.load(self.TSA_KEY)

    def revocations(self) -> list[Revocation]:
        """Everything revoked so far."""
        rows = json.loads((self.dir / "revoked.json").read_text())
        return [
            Revocation(int(r["serial"], 16), x509.ReasonFlags(r["reason"]), datetime.fromisoformat(r["at"]))
            for r in rows
        ]

    def revoke(
        self,
        serial: int,
        reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
        *,
        at: datetime | None = None,
    ) -> Revocation:
        """Revoke a certificate issued here (``xibu pki revoke``) and republish the CRL."""
        self.certificate(serial)  # only our own certificates
        with self._lock:
            revs = self.revocations()
            if any(r.serial == serial for r in revs):
                raise PkiError("该证书已被吊销。", f"serial {serial:x} already revoked")
            rev = Revocation(serial, reason, _now(at))
            rows = [{"serial": f"{r.serial:x}", "reason": r.reason.value, "at": r.revoked_at.isoformat()} for r in [*revs, rev]]
            _write_atomic(self.dir / "revoked.json", json.dumps(rows, indent=1).encode())
            self._crl_cache = None
        self.crls(refresh=True)
        return rev

    def crls(self, *, refresh: bool = False, now: datetime | None = None) -> tuple[bytes, bytes]:
        """``(issuing CA CRL, root CRL)`` in DER, republished when older than a day.

        The first is served at ``/pki/crl``, the second at ``/pki/root-crl``.
        """
        t = _now(now)
        with self._lock:
            if self._crl_cache is not None and not refresh:
                crl = x509.load_der_x509_crl(self._crl_cache[0])
                if t - crl.last_update_utc < timedelta(days=1):
                    return self._crl_cache
            number_file = self.dir / "crl_number"
            number = int(number_file.read_text()) + 1 if number_file.exists() else 1
            issuing = build_crl(
                self.keys.load(self.ISSUING_KEY), self.issuing_cert, self.revocations(), crl_number=number, now=t
            )
            root = build_crl(self.keys.load(self.ROOT_KEY), self.root_cert, [], crl_number=number, now=t)
            pair = (issuing.public_bytes(serialization.Encoding.DER), root.public_bytes(serialization.Encoding.DER))
            _write_atomic(self.dir / "crl.der", pair[0])
            _write_atomic(self.dir / "root-crl.der", pair[1])
            _write_atomic(number_file, str(number).encode())
            self._crl_cache = pair
            return pair
