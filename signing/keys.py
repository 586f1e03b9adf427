"""Private keys at rest and in memory.

Keys are stored as PKCS#8 DER sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
the master key, with the key id as associated data so that one sealed file cannot be swapped
for another. The master key comes from ``XIBU_MASTER_KEY`` or a key file outside the
database; the caller reads it and hands it in, this module never looks at the environment.

Loaded key objects are cached per store: re-loading and re-checking a key is the main cost of
a signature (field notes), and a cached object never leaves the process.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12

from .errors import KeyStoreError, PkiError

__all__ = [
    "KeyStore",
    "MasterKey",
    "PrivateKey",
    "SignerSpec",
    "generate_key",
    "import_pkcs12",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_MAGIC = b"XIBUKEY1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_MIN_MASTER_BYTES = 16


class MasterKey:
    """The secret that seals every stored private key.

    Its ``repr`` never shows the secret. Build it with :meth:`from_value` (the value of
    ``XIBU_MASTER_KEY``) or :meth:`from_file` (a key file kept outside the database).
    """

    __slots__ = ("_kek",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < _MIN_MASTER_BYTES:
            raise KeyStoreError("主密钥太短（至少 16 字节），拒绝使用。", "master key too short")
        self._kek = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"xibu-docs/keystore", info=b"kek-v1"
        ).derive(secret)

    @classmethod
    def from_value(cls, value: str | bytes) -> MasterKey:
        """:param value: the master key as configured (e.g. ``XIBU_MASTER_KEY``)."""
        raw = value.encode() if isinstance(value, str) else value
        return cls(raw.strip())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        """:param path: a key file; its whole content (stripped) is the secret."""
        try:
            return cls(Path(path).read_bytes().strip())
        except OSError as exc:
            raise KeyStoreError("无法读取主密钥文件。", type(exc).__name__) from None

    def seal(self, key_id: str, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``key_id``."""
        nonce = os.urandom(12)
        return _MAGIC + nonce + AESGCM(self._kek).encrypt(nonce, plaintext, key_id.encode())

    def unseal(self, key_id: str, blob: bytes) -> bytes:
        """Decrypt a blob from :meth:`seal`; a wrong master key or a swapped file fails."""
        if not blob.startswith(_MAGIC) or len(blob) < len(_MAGIC) + 12 + 16:
            raise KeyStoreError("密钥文件格式不正确。", f"key {key_id}: bad header")
        nonce = blob[len(_MAGIC) : len(_MAGIC) + 12]
        try:
            return AESGCM(self._kek).decrypt(nonce, blob[len(_MAGIC) + 12 :], key_id.encode())
        except InvalidTag:
            raise KeyStoreError(
                "主密钥不正确或密钥文件已损坏，无法解密私钥。", f"key {key_id}: authentication failed"
            ) from None

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key: the default for every party, CA and the TSA."""
    return ec.generate_private_key(ec.SECP256R1())


class KeyStore:
    """Sealed private keys in one directory, with an in-process cache of loaded keys.

    :param directory: where ``<key_id>.key`` files live (created 0700 if missing).
    :param master_key: the :class:`MasterKey` that seals them.
    """

    def __init__(self, directory: str | os.PathLike[str], master_key: MasterKey) -> None:
        self._dir = Path(directory)
        self._master = master_key
        self._cache: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise KeyStoreError("密钥标识不合法。", f"bad key id {key_id!r}")
        return self._dir / f"{key_id}.key"

    def exists(self, key_id: str) -> bool:
        """Whether a key with this id is stored."""
        return self._path(key_id).exists()

    def put(self, key_id: str, key: PrivateKey) -> None:
        """Seal and store ``key``; refuses to overwrite, since certificates point at it.

        :param key_id: file-safe identifier, e.g. ``issuing-ca`` or ``party-1f3a…``.
        :param key: the private key object.
        """
        path = self._path(key_id)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        blob = self._master.seal(key_id, der)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        try:
            os.link(tmp, path)  # fails if the key exists: write-once
        except FileExistsError:
            raise KeyStoreError("该密钥已存在，不能覆盖。", f"key {key_id} exists") from None
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._cache[key_id] = key

    def load(self, key_id: str) -> PrivateKey:
        """The key object for ``key_id``, decrypted once per process and then cached.

        :param key_id: as given to :meth:`put`.
        """
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        try:
            blob = self._path(key_id).read_bytes()
        except FileNotFoundError:
            raise KeyStoreError("找不到签署私钥。", f"key {key_id} missing") from None
        der = self._master.unseal(key_id, blob)
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError("不支持的私钥类型。", type(key).__name__)
        with self._lock:
            self._cache[key_id] = key
        return key

    def forget(self) -> None:
        """Drop every cached key object (e.g. after a master key rotation)."""
        with self._lock:
            self._cache.clear()


@dataclass(frozen=True)
class SignerSpec:
    """Who signs: a private key, its certificate and the chain up to (not incl.) the root.

    ``repr`` hides the key, so a spec that ends up in a log line leaks nothing.
    """

    key: PrivateKey = field(repr=False)
    """The signer's private key object (keep it cached; see :class:`KeyStore`)."""
    cert: x509.Certificate
    """The signer's end-entity certificate."""
    chain: tuple[x509.Certificate, ...] = ()
    """Intermediate certificates (and optionally the root) embedded in the signature."""


def _check_signing_cert(cert: x509.Certificate) -> None:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (ku.digital_signature or ku.content_commitment):
        raise PkiError("该证书不能用于签名（缺少数字签名用途）。", "keyUsage lacks signing bits")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return
    if bc.ca:
        raise PkiError("不能使用 CA 证书直接签署文件。", "certificate is a CA")


def import_pkcs12(data: bytes, password: str | bytes | None) -> SignerSpec:
    """Accept an organization's own PKCS#12 from an external CA.

    Checks that it holds a private key that matches a signing-capable certificate; the
    caller then seals the key in its :class:`KeyStore` and keeps the certificates.

    :param data: the ``.p12``/``.pfx`` file.
    :param password: its password.
    :raises PkiError: wrong password, no key, no certificate, or a non-signing certificate.
    """
    pw = password.encode() if isinstance(password, str) else password
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
    except ValueError:
        raise PkiError("PKCS#12 文件无法打开：密码错误或文件损坏。", "pkcs12 load failed") from None
    if key is None:
        raise PkiError("PKCS#12 文件中没有私钥。", "no private key")
    if cert is None:
        raise PkiError("PKCS#12 文件中没有签名证书。", "no certificate")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PkiError("不支持的私钥类型（仅支持 ECDSA 与 RSA）。", type(key).__name__)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise PkiError("PKCS#12 文件中的私钥与证书不匹配。", "key/cert mismatch")
    _check_signing_cert(cert)
    return SignerSpec(key=key, cert=cert, chain=tuple(extra or ()))
