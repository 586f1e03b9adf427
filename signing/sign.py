"""PAdES signing: one incremental update per party, then B-LT/B-LTA on completion.

Every signature is ETSI.CAdES.detached over SHA-256 with an RFC 3161 timestamp (B-T). When
the last party has signed, :func:`finish_lta` adds the certificates and CRLs of every
signature to the DSS and a document timestamp over it (B-LTA), so the file still verifies
after the certificates expire. The API is synchronous; pyHanko's async core runs inside.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

import aiohttp
from asn1crypto import algos, cms
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as ph_fields
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PhSigningError
from pyhanko.sign.general import as_signing_certificate_v2, extract_certificate_info, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import extract_contents
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.registry import SimpleCertificateStore

from . import der, speedups
from .errors import SigningError, TimestampUnavailable
from .fields import CERTIFY_PERMISSION, FieldSpec, field_plan
from .keys import SignerSpec
from .stamps import StampFonts, StampSpec
from .validate import TrustSpec, validation_context

__all__ = ["CachedKeySigner", "finish_lta", "pades_metadata", "pyhanko_signer", "sign_pdf"]

log = logging.getLogger(__name__)
speedups.install()  # pyHanko parses signature /Contents one byte per call otherwise
_TS_ERRORS = (TimestampRequestError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)


def _asn1_cert(cert: object) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))  # type: ignore[attr-defined]


class CachedKeySigner(signers.SimpleSigner):
    """``SimpleSigner`` that signs with an already-loaded key and pre-encoded CMS parts.

    pyHanko's ``SimpleSigner`` re-parses and re-checks the private key on every signature,
    which is most of the cost of a signature (field notes). And asn1crypto re-encodes every
    certificate, name and attribute it is handed each time it builds a CMS object (≈ 5 ms per
    signature, twice: once to estimate the size, once for real). Everything that is the same
    for every signature of this signer is therefore encoded once here, and :meth:`async_sign`
    joins bytes for the PAdES case we use (see :mod:`signing.der`); anything else goes to
    pyHanko's own implementation.
    """

    def __init__(self, spec: SignerSpec) -> None:
        der_key = spec.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain = [_asn1_cert(c) for c in spec.chain]
        cert = _asn1_cert(spec.cert)
        super().__init__(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )
        self._key = spec.key
        self._sig_len = 72 if isinstance(spec.key, ec.EllipticCurvePrivateKey) else spec.key.key_size // 8
        self._der_certs = der.set_of(cert.dump(), *(c.dump() for c in chain), tag=0xA0)
        self._der_sid = cms.IssuerAndSerialNumber(
            {"issuer": cert.issuer, "serial_number": cert.serial_number}
        ).dump()
        self._der_attr_cert = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(cert)
        ).dump()
        self._der_sha256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
        self._der_sig_alg = self.get_signature_mechanism_for_digest("sha256").dump()

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

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: object = None,
    ) -> cms.ContentInfo:
        """A detached PAdES CMS signature: what pyHanko builds, from pre-encoded parts.

        Signed attributes are content-type, message-digest and signing-certificate-v2 (PAdES has
        no signing-time attribute); the signature time-stamp token is the one unsigned attribute.
        Other requests (CAdES extras, revocation attributes, other digests) go to pyHanko.
        """
        attrs_plain = signed_attr_settings is None or (
            signed_attr_settings.adobe_revinfo_attr is None
            and signed_attr_settings.cades_signed_attrs is None
        )
        if not (
            use_pades
            and is_pdf_sig
            and attrs_plain
            and encap_content_info is None
            and digest_algorithm.lower() == "sha256"
            and not self.attribute_certs
        ):
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        attrs = (
            _DER_ATTR_CT_DATA,
            der.sequence(der.oid(_OID_MESSAGE_DIGEST), der.set_of(der.octet_string(data_digest))),
            self._der_attr_cert,
        )
        signature = bytes(self._sig_len) if dry_run else self.sign_raw(der.set_of(*attrs), "sha256")
        unsigned = b""
        if timestamper is not None:
            if dry_run:
                token = await timestamper.async_dummy_response("sha256")
            else:
                token = await timestamper.async_timestamp(hashlib.sha256(signature).digest(), "sha256")
            unsigned = der.set_of(der.sequence(der.oid(_OID_TST_TOKEN), der.set_of(token.dump())), tag=0xA1)
        signer_info = der.signer_info(
            self._der_sid, self._der_sha256, attrs, self._der_sig_alg, signature, unsigned
        )
        signed_data = der.sequence(
            der.integer(1),
            der.set_of(self._der_sha256),
            _DER_ENCAP_DATA,
            self._der_certs,
            der.set_of(signer_info),
        )
        return cms.ContentInfo.load(der.sequence(der.oid(_OID_SIGNED_DATA), der.explicit(0, signed_data)))


_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_TST_TOKEN = "1.2.840.113549.1.9.16.2.14"
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_DER_ENCAP_DATA = der.sequence(der.oid("1.2.840.113549.1.7.1"))  # id-data, detached
_DER_ATTR_CT_DATA = der.sequence(der.oid("1.2.840.113549.1.9.3"), der.set_of(der.oid("1.2.840.113549.1.7.1")))


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

    The DSS gets each signer's and TSA's chain (root included) plus the CRLs in ``trust``
    (which the caller takes from :meth:`signing.pki.Pki.crls`), with a VRI entry per signature;
    then a document timestamp seals it, in the same incremental update. The document
    timestamp's own TSA chain needs no second DSS update: its certificates travel in the token
    and its revocation data is the CRL already stored (B-LTA renewal would add it anyway).

    Chains are validated against ``trust`` — a revoked signer fails here — and the result is
    remembered for a few minutes per (certificate, trust) pair: a batch seals hundreds of
    documents with one office's certificate and one TSA, and a new CRL (a revocation) is a
    different ``trust``, so it is never served from the cache.

    :param pdf: the fully signed document.
    :param trust: our root(s) and current CRLs.
    :param timestamper: as for :func:`sign_pdf`.
    :raises TimestampUnavailable: the TSA failed; no output.
    :raises SigningError: a signer's chain does not validate against ``trust`` (e.g. revoked).
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    sigs = []
    for _name, value, _ref in ph_fields.enumerate_sig_fields(writer):
        if value is None:
            continue
        sig = value.get_object()
        if sig.get("/Type") == "/DocTimeStamp":
            continue
        sigs.append(extract_contents(sig))
    if not sigs:
        raise SigningError("文件没有签名，无法补充长期验证数据。", "no signatures")
    try:
        for contents in sigs:
            certs = _validation_certs(cms.ContentInfo.load(contents)["content"], trust)
            DocumentSecurityStore.supply_dss_in_writer(
                writer, contents.hex().encode("ascii"), certs=certs, crls=_asn1_crls(trust)
            )
    except SigningError:
        raise
    except Exception as exc:  # path building / revocation failures come in many types
        raise SigningError("签名证书无法验证（可能已被吊销），不能补充长期验证数据。", repr(exc)) from exc
    out = io.BytesIO()
    try:
        signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256", output=out)
    except _TS_ERRORS as exc:
        raise TimestampUnavailable(type(exc).__name__) from None
    except PhSigningError as exc:
        if isinstance(exc.__cause__, _TS_ERRORS):
            raise TimestampUnavailable(type(exc.__cause__).__name__) from None
        raise SigningError("文档时间戳失败。", str(exc)) from exc
    return out.getvalue()


_PATH_TTL = 600.0  # seconds a validated chain is reused for the same trust
_PATH_MAX = 256
_paths: OrderedDict[tuple[bytes, bytes], tuple[float, tuple[asn1_x509.Certificate, ...]]] = OrderedDict()
_paths_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def _fingerprint(trust: TrustSpec) -> bytes:
    """A digest of everything in ``trust``: a new CRL or root is a different key."""
    h = hashlib.sha256(repr(trust.require_revocation_info).encode())
    for group in (trust.roots, trust.intermediates):
        for cert in group:
            h.update(cert.public_bytes(serialization.Encoding.DER))
        h.update(b"|")
    for crl in trust.crls:
        h.update(hashlib.sha256(crl).digest())
    return h.digest()


@functools.lru_cache(maxsize=16)
def _asn1_crls(trust: TrustSpec) -> tuple[asn1_crl.CertificateList, ...]:
    return tuple(asn1_crl.CertificateList.load(c) for c in trust.crls)


def _validation_certs(signed_data: cms.SignedData, trust: TrustSpec) -> list[asn1_x509.Certificate]:
    """Certificates of the signer's and every signature-timestamp TSA's validated path."""
    out = list(_path_certs(signed_data, trust))
    for tst in extract_tst_data_iter(signed_data["signer_infos"][0], signed=False):
        out.extend(_path_certs(tst, trust))
    return out


def _path_certs(signed_data: cms.SignedData, trust: TrustSpec) -> tuple[asn1_x509.Certificate, ...]:
    # Keyed on the encoded certificates and signer id: classifying the certificates (which
    # compares names through stringprep) costs more than the lookup it would key.
    seen = signed_data["certificates"].dump() + signed_data["signer_infos"][0]["sid"].dump()
    key = (hashlib.sha256(seen).digest(), _fingerprint(trust))
    now = time.monotonic()
    with _paths_lock:
        hit = _paths.get(key)
        if hit is not None and hit[0] > now:
            _paths.move_to_end(key)
            return hit[1]
    info = extract_certificate_info(signed_data)
    validator = CertificateValidator(
        info.signer_cert, intermediate_certs=info.other_certs, validation_context=validation_context(trust)
    )
    path = asyncio.run(validator.async_validate_usage(key_usage=set()))
    certs = tuple(path)
    with _paths_lock:
        _paths[key] = (now + _PATH_TTL, certs)
        while len(_paths) > _PATH_MAX:
            _paths.popitem(last=False)
    return certs
