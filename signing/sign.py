"""PAdES signing: one incremental update per party, then B-LT/B-LTA on completion.

Every signature is ETSI.CAdES.detached over SHA-256 with an RFC 3161 timestamp (B-T). When
the last party has signed, :func:`finish_lta` adds the certificates and CRLs of every
signature to the DSS and a document timestamp over it (B-LTA), so the file still verifies
after the certificates expire. The API is synchronous; pyHanko's async core runs inside.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Sequence

import aiohttp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as ph_fields
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PhSigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import SigningError, TimestampUnavailable
from .fields import CERTIFY_PERMISSION, FieldSpec, field_plan
from .keys import SignerSpec
from .stamps import StampFonts, StampSpec
from .validate import TrustSpec, validation_context

__all__ = ["CachedKeySigner", "finish_lta", "pades_metadata", "pyhanko_signer", "sign_pdf"]

log = logging.getLogger(__name__)
_TS_ERRORS = (TimestampRequestError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


def _asn1_cert(cert: object) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))  # type: ignore[attr-defined]


class CachedKeySigner(signers.SimpleSigner):
    """``SimpleSigner`` that signs with an already-loaded key object.

    pyHanko's ``SimpleSigner`` re-parses and re-checks the private key on every signature,
    which is most of the cost of a signature (field notes).
    """

    def __init__(self, spec: SignerSpec) -> None:
        der = spec.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain = [_asn1_cert(c) for c in spec.chain]
        super().__init__(
            signing_cert=_asn1_cert(spec.cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        self._key = spec.key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign with the cached key (ECDSA, or RSA PKCS#1 v1.5)."""
        algo = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[
            digest_algorithm.lower()
        ]
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algo))
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), algo)
        raise SigningError("不支持的私钥类型。", type(self._key).__name__)  # pragma: no cover


@functools.lru_cache(maxsize=512)
def pyhanko_signer(spec: SignerSpec) -> CachedKeySigner:
    """The (cached) pyHanko signer for ``spec``."""
    return CachedKeySigner(spec)


def pades_metadata(field_name: str, *, certify: bool, permission: MDPPerm) -> signers.PdfSignatureMetadata:
    """The PAdES settings we always use; shared with the benchmark's raw-pyHanko baseline."""
    return signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        certify=certify,
        docmdp_permissions=permission,
    )


def _existing_fields(writer: IncrementalPdfFileWriter) -> dict[str, tuple[bool, MDPPerm | None]]:
    """Field name → (already signed, DocMDP value its /Lock asks for)."""
    out: dict[str, tuple[bool, MDPPerm | None]] = {}
    for name, value, ref in ph_fields.enumerate_sig_fields(writer):
        lock = ref.get_object().get("/Lock")
        perm = None
        if lock is not None and "/P" in lock.get_object():
            perm = MDPPerm(int(lock.get_object()["/P"]))
        out[name] = (value is not None, perm)
    return out


def sign_pdf(
    pdf: bytes,
    signer: SignerSpec,
    field: FieldSpec,
    *,
    timestamper: TimeStamper,
    certify: bool = False,
    later_fields: Sequence[FieldSpec] = (),
    stamp: StampSpec | None = None,
    fonts: StampFonts | None = None,
) -> bytes:
    """Add one party's PAdES B-T signature as an incremental update.

    The first party certifies (``certify=True``) and passes every other party's field in
    ``later_fields``: all fields are then created in that revision with their locks (see
    :mod:`signing.fields`); later parties sign their pre-created field. Whether a field
    locks everything follows from the plan: the last field in the order does.

    :param pdf: the document as it stands (the rendered PDF, or the previous signer's output).
    :param signer: key and certificate chain of this party.
    :param field: this party's field; must already exist unless ``certify`` or the document
        has no plan (a single-party document).
    :param timestamper: built-in :class:`~signing.timestamps.LocalTimeStamper` or an HTTP
        client; if it fails, :class:`TimestampUnavailable` is raised and nothing is returned.
    :param certify: make this the certification signature (DocMDP level 2, or level 1 if
        there are no later fields).
    :param later_fields: with ``certify``: the other parties' fields, in signing order.
    :param stamp: visible stamp text; ``None`` for an empty visible box.
    :param fonts: required with ``stamp``: the stamp font cache.
    :return: the signed PDF (the input plus one incremental update).
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    existing = _existing_fields(writer)
    if certify:
        if any(signed for signed, _ in existing.values()):
            raise SigningError("文件已有签名，不能再作认证签名。", "certify on a signed document")
        plan = field_plan([field, *later_fields])
        for spec in plan:
            if spec.sig_field_name in existing:
                raise SigningError("签名域已存在。", f"field {spec.sig_field_name} exists")
            ph_fields.append_signature_field(writer, spec)
        permission = CERTIFY_PERMISSION if later_fields else MDPPerm.NO_CHANGES
    else:
        if later_fields:
            raise SigningError("只有认证签名可以预建其他签名域。", "later_fields without certify")
        if existing.get(field.name, (False, None))[0]:
            raise SigningError("该签名域已经签署。", f"field {field.name} already signed")
        if field.name not in existing:
            if existing:
                raise SigningError("找不到该方的签名域。", f"field {field.name} missing")
            ph_fields.append_signature_field(writer, field_plan([field])[0])  # sole field: locks all
            existing[field.name] = (False, MDPPerm.NO_CHANGES)
        permission = existing[field.name][1] or CERTIFY_PERMISSION

    style, params = (None, None)
    if stamp is not None:
        if fonts is None:
            raise SigningError("缺少签章字体配置。", "stamp given without fonts")
        style, params = fonts.style(stamp)
    pdf_signer = signers.PdfSigner(
        pades_metadata(field.name, certify=certify, permission=permission),
        signer=pyhanko_signer(signer),
        timestamper=timestamper,
        stamp_style=style,
    )
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=out, appearance_text_params=params, existing_fields_only=True)
    except _TS_ERRORS as exc:
        raise TimestampUnavailable(type(exc).__name__) from None
    except PhSigningError as exc:
        if isinstance(exc.__cause__, _TS_ERRORS):
            raise TimestampUnavailable(type(exc.__cause__).__name__) from None
        raise SigningError("签署失败。", str(exc)) from exc
    log.info("signed field %s (certify=%s, %d bytes)", field.name, certify, out.tell())
    return out.getvalue()


def finish_lta(pdf: bytes, trust: TrustSpec, *, timestamper: TimeStamper) -> bytes:
    """Add validation data for every signature and a document timestamp (B-LT → B-LTA).

    The DSS gets each signer's and TSA's chain plus the CRLs in ``trust`` (which the caller
    takes from :meth:`signing.pki.Pki.crls`), then a document timestamp seals it.

    :param pdf: the fully signed document.
    :param trust: our root(s) and current CRLs.
    :param timestamper: as for :func:`sign_pdf`.
    :raises TimestampUnavailable: the TSA failed; no output.
    :raises SigningError: a signer's chain does not validate against ``trust`` (e.g. revoked).
    """
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    vc = validation_context(trust)
    sigs = list(reader.embedded_regular_signatures)
    if not sigs:
        raise SigningError("文件没有签名，无法补充长期验证数据。", "no signatures")

    async def _collect() -> None:
        for emb in sigs:
            paths = await collect_validation_info(emb, vc)
            DocumentSecurityStore.supply_dss_in_writer(
                writer, emb.pkcs7_content.hex().encode("ascii"), paths=paths, validation_context=vc
            )

    try:
        asyncio.run(_collect())
    except Exception as exc:  # path building / revocation failures come in many types
        raise SigningError("签名证书无法验证（可能已被吊销），不能补充长期验证数据。", repr(exc)) from exc
    out = io.BytesIO()
    try:
        signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256", validation_context=vc, output=out)
    except _TS_ERRORS as exc:
        raise TimestampUnavailable(type(exc).__name__) from None
    except PhSigningError as exc:
        if isinstance(exc.__cause__, _TS_ERRORS):
            raise TimestampUnavailable(type(exc.__cause__).__name__) from None
        raise SigningError("文档时间戳失败。", str(exc)) from exc
    return out.getvalue()
