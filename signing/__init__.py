"""PKI and PAdES signing for Xibu Docs: bytes and keys in, bytes or a status out.

Split like pyHanko's own ``sign`` package: keys and certificates (``keys``, ``pki``), field
locks (``fields``), visible stamps (``stamps``), time stamps (``timestamps``), signing
(``sign``) and validation (``validate``). Nothing here imports ``service`` or ``storage``.
"""

from .certs import (
    CertSubject,
    Revocation,
    build_crl,
    create_issuing_ca,
    create_root_ca,
    create_tsa,
    issue_signing_cert,
)
from .errors import KeyStoreError, PkiError, SigningError, StampGlyphMissing, TimestampUnavailable
from .fields import CERTIFY_PERMISSION, FieldSpec, field_plan
from .keys import KeyStore, MasterKey, PrivateKey, SignerSpec, generate_key, import_pkcs12
from .pki import Pki
from .sign import finish_lta, sign_pdf
from .stamps import DEFAULT_FACES, FaceRef, StampFonts, StampSpec, prepare_fonts
from .timestamps import TSA_POLICY_OID, LocalTimeStamper, TimeStamper, http_timestamper
from .validate import DocumentStatus, SignatureStatus, TrustSpec, validate_pdf, validation_context

__all__ = [
    "CERTIFY_PERMISSION",
    "DEFAULT_FACES",
    "TSA_POLICY_OID",
    "CertSubject",
    "DocumentStatus",
    "FaceRef",
    "FieldSpec",
    "KeyStore",
    "KeyStoreError",
    "LocalTimeStamper",
    "MasterKey",
    "Pki",
    "PkiError",
    "PrivateKey",
    "Revocation",
    "SignatureStatus",
    "SignerSpec",
    "SigningError",
    "StampFonts",
    "StampGlyphMissing",
    "StampSpec",
    "TimeStamper",
    "TimestampUnavailable",
    "TrustSpec",
    "build_crl",
    "create_issuing_ca",
    "create_root_ca",
    "create_tsa",
    "field_plan",
    "finish_lta",
    "generate_key",
    "http_timestamper",
    "import_pkcs12",
    "issue_signing_cert",
    "prepare_fonts",
    "sign_pdf",
    "validate_pdf",
    "validation_context",
]
