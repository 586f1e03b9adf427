"""Basic validation of every signature in a PDF against our trust anchor and CRLs.

This is the base the strict verifier (later issue) builds on: it reports, per signature,
what pyHanko found, and it already treats signature fields pyHanko silently skipped
(unknown SubFilter) or could not parse as failures (field notes). It does *not* yet bind
fields to expected signers or compare revisions with the archive.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as ph_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

__all__ = ["DocumentStatus", "SignatureStatus", "TrustSpec", "validate_pdf", "validation_context"]


@dataclass(frozen=True)
class TrustSpec:
    """What a verifier trusts: root certificates and the current CRLs (DER)."""

    roots: tuple[x509.Certificate, ...]
    """Trust anchors (our root; plus an external CA's root for imported PKCS#12 signers)."""
    crls: tuple[bytes, ...] = ()
    """CRLs in DER: ours are ``Pki.crls()`` (issuing CA's and root's)."""
    intermediates: tuple[x509.Certificate, ...] = ()
    """Extra certificates for path building (signatures embed theirs anyway)."""
    require_revocation_info: bool = True
    """Hard-fail when a certificate in a path has no revocation data."""


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def validation_context(trust: TrustSpec, *, at: datetime | None = None) -> ValidationContext:
    """A pyHanko validation context for ``trust`` (no network fetching).

    :param at: validate as of this time instead of now.
    """
    return ValidationContext(
        trust_roots=[_asn1(c) for c in trust.roots],
        other_certs=[_asn1(c) for c in trust.intermediates],
        crls=list(trust.crls),
        allow_fetching=False,
        revocation_mode="hard-fail" if trust.require_revocation_info else "soft-fail",
        moment=at,
    )


@dataclass(frozen=True)
class SignatureStatus:
    """One signature's result."""

    field_name: str
    """The signature field."""
    signer_subject: str
    """The signer certificate's subject (RFC 4514)."""
    signer_serial: int | None
    """The signer certificate's serial number."""
    intact: bool
    """The signed bytes are unchanged."""
    valid: bool
    """The cryptographic signature checks out."""
    trusted: bool
    """The chain leads to a trust root and nothing on it is revoked."""
    revoked: bool
    """The signer's (or a CA's) certificate is revoked per the CRLs given."""
    timestamp_ok: bool
    """A signature timestamp is present and valid."""
    signing_time: datetime | None
    """The timestamp's time (the signer's claimed time if there is no timestamp)."""
    modifications_ok: bool
    """Changes after this signature are within what its DocMDP/FieldMDP locks allow."""
    modification_level: str | None
    """pyHanko's modification level name (e.g. ``FORM_FILLING``, ``LTA_UPDATES``)."""
    problem: str | None = None
    """Why it failed, if it did (English, technical)."""

    @property
    def ok(self) -> bool:
        """All of the above."""
        return self.intact and self.valid and self.trusted and self.timestamp_ok and self.modifications_ok


@dataclass(frozen=True)
class DocumentStatus:
    """All signatures in a document."""

    signatures: tuple[SignatureStatus, ...]
    """Approval/certification signatures in file order."""
    doc_timestamps: int
    """Number of document timestamps (B-LTA) that validated."""
    doc_timestamps_ok: bool
    """Every document timestamp validated."""

    @property
    def ok(self) -> bool:
        """Every signature and document timestamp is fine (and there is at least one)."""
        return bool(self.signatures) and all(s.ok for s in self.signatures) and self.doc_timestamps_ok


def _failed(name: str, problem: str) -> SignatureStatus:
    return SignatureStatus(name, "", None, False, False, False, False, False, None, False, None, problem)


async def _validate(pdf: bytes, trust: TrustSpec) -> DocumentStatus:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    filled = [name for name, value, _ in ph_fields.enumerate_sig_fields(reader) if value is not None]
    results: list[SignatureStatus] = []
    seen: set[str] = set()
    ts_ok, ts_count = True, 0
    for emb in reader.embedded_signatures:
        seen.add(emb.field_name)
        if emb.sig_object_type == "/DocTimeStamp":
            try:
                ts = await async_validate_pdf_timestamp(emb, validation_context=validation_context(trust))
                ts_ok = ts_ok and ts.intact and ts.valid and ts.trusted and ts.docmdp_ok is not False
                ts_count += 1
            except Exception:  # an unreadable timestamp is a failed one
                ts_ok = False
            continue
        try:
            st = await async_validate_pdf_signature(
                emb,
                signer_validation_context=validation_context(trust),
                ts_validation_context=validation_context(trust),
            )
        except Exception as exc:  # malformed signatures raise instead of reporting (field notes)
            results.append(_failed(emb.field_name, f"unreadable signature: {exc!r}"))
            continue
        tsv = st.timestamp_validity
        cert = st.signing_cert
        results.append(
            SignatureStatus(
                field_name=emb.field_name,
                signer_subject=x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string(),
                signer_serial=cert.serial_number,
                intact=st.intact,
                valid=st.valid,
                trusted=st.trusted,
                revoked=st.revoked,
                timestamp_ok=tsv is not None and tsv.intact and tsv.valid and tsv.trusted,
                signing_time=tsv.timestamp if tsv is not None else st.signer_reported_dt,
                modifications_ok=bool(st.docmdp_ok) and st.seed_value_ok,
                modification_level=st.modification_level.name if st.modification_level else None,
                problem=None if st.bottom_line else st.summary(),
            )
        )
    for name in filled:
        if name not in seen:  # pyHanko skips unknown SubFilters without a word
            results.append(_failed(name, "signature not recognised (unknown SubFilter?)"))
    return DocumentStatus(tuple(results), ts_count, ts_ok)


def validate_pdf(pdf: bytes, trust: TrustSpec) -> DocumentStatus:
    """Validate every signature and document timestamp in ``pdf``.

    :param pdf: the signed document.
    :param trust: roots and CRLs; signatures chaining elsewhere come out untrusted.
    """
    return asyncio.run(_validate(pdf, trust))
