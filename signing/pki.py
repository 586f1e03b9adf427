"""Our own small PKI kept in a directory: root CA → issuing CA → TSA, party certificates.

Certificates and CRLs are stored in clear, keys sealed by :class:`~signing.keys.KeyStore`.
Revocation data is published as CRLs — the issuing CA's at ``{public_url}/pki/crl`` and the
root's at ``{public_url}/pki/root-crl`` — because long-term validation comes out
"indeterminate" without revocation data (field notes). Party certificates also carry an AIA
caIssuers URL ``{public_url}/pki/issuing.pem``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .certs import (
    CertSubject,
    Revocation,
    _now,
    build_crl,
    create_issuing_ca,
    create_root_ca,
    create_tsa,
    issue_signing_cert,
)
from .errors import PkiError
from .keys import KeyStore, MasterKey, PrivateKey, SignerSpec, generate_key

__all__ = ["Pki"]


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
        # ((issuing CRL, root CRL), issuing thisUpdate) as last read from disk
        self._crl_cache: tuple[tuple[bytes, bytes], datetime] | None = None
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
        tsa = create_tsa(
            tsa_key, issuing_key, issuing, f"{org_name} 时间戳服务", public_url=public_url, now=now
        )
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
        """Revoke a certificate issued here (``xibu pki revoke``) and republish the CRL.

        Other processes of the installation (web, workers) see the new CRL on their next
        :meth:`crls` call: the CRL files changed on disk.
        """
        self.certificate(serial)  # only our own certificates
        with self._lock, self._file_lock():
            revs = self.revocations()
            if any(r.serial == serial for r in revs):
                raise PkiError("该证书已被吊销。", f"serial {serial:x} already revoked")
            rev = Revocation(serial, reason, _now(at))
            rows = [
                {"serial": f"{r.serial:x}", "reason": r.reason.value, "at": r.revoked_at.isoformat()}
                for r in [*revs, rev]
            ]
            _write_atomic(self.dir / "revoked.json", json.dumps(rows, indent=1).encode())
            self._publish(_now(at))
        return rev

    def crls(self, *, refresh: bool = False, now: datetime | None = None) -> tuple[bytes, bytes]:
        """``(issuing CA CRL, root CRL)`` in DER, as last published by any process.

        The published files are the truth: they are re-read whenever they change on disk (size,
        mtime or inode differ from what this process read), so a revocation made by another
        process is seen at the next call, not a day later. A new pair is published when the
        current one is a day old, or with ``refresh``. The first is served at ``/pki/crl``,
        the second at ``/pki/root-crl``.
        """
        t = _now(now)
        with self._lock:
            if not refresh:
                current = self._read_published()
                if current is not None and t - current[1] < timedelta(days=1):
                    return current[0]
            with self._file_lock():
                if not refresh:  # another process may have published while we waited
                    current = self._read_published()
                    if current is not None and t - current[1] < timedelta(days=1):
                        return current[0]
                return self._publish(t)

    def _read_published(self) -> tuple[tuple[bytes, bytes], datetime] | None:
        """The published pair and its issuing CRL's thisUpdate (parsed only when the bytes change).

        Two small files are read on every call — cheaper than trusting mtimes, whose resolution
        can hide two publications in a row.
        """
        try:
            pair = ((self.dir / "crl.der").read_bytes(), (self.dir / "root-crl.der").read_bytes())
        except FileNotFoundError:
            return None
        if self._crl_cache is None or self._crl_cache[0] != pair:
            self._crl_cache = (pair, x509.load_der_x509_crl(pair[0]).last_update_utc)
        return self._crl_cache

    def _publish(self, t: datetime) -> tuple[bytes, bytes]:
        """Build, sign and write a new CRL pair (caller holds both locks)."""
        number_file = self.dir / "crl_number"
        number = int(number_file.read_text()) + 1 if number_file.exists() else 1
        issuing = build_crl(
            self.keys.load(self.ISSUING_KEY), self.issuing_cert, self.revocations(), crl_number=number, now=t
        )
        root = build_crl(self.keys.load(self.ROOT_KEY), self.root_cert, [], crl_number=number, now=t)
        pair = (
            issuing.public_bytes(serialization.Encoding.DER),
            root.public_bytes(serialization.Encoding.DER),
        )
        _write_atomic(number_file, str(number).encode())
        _write_atomic(self.dir / "root-crl.der", pair[1])
        _write_atomic(self.dir / "crl.der", pair[0])
        self._crl_cache = (pair, issuing.last_update_utc)
        return pair

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialise revocation and CRL publication across processes (``flock`` on ``pki.lock``)."""
        with open(self.dir / "pki.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
