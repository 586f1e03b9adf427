"""Who signed an archived PDF and when its timestamps say it was: read once per revision, then cached.

The public lookup lists each signature's certificate serial and its RFC 3161 time. Those facts are
in the file, not in our rows, and a full pyHanko parse of a sealed certificate takes ~400 ms: far
too slow for a lookup. Here only the signature blobs are read: each ``/ByteRange`` names where its
``/Contents`` sits, and that hex string is the CMS object (asn1crypto), ~1 ms per document.

Nothing is validated here, and nothing needs to be: the bytes come from our own write-once
archive, addressed by their SHA-256. Validating an uploaded file is another matter (upload.py).
The result depends only on the bytes, so it is cached by their SHA-256 and never goes stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, core, tsp

from service.verification.cache import Lru

__all__ = ["PdfSignatures", "SignatureFact", "cached_signatures", "read_signatures"]

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@dataclass(frozen=True)
class SignatureFact:
    """One approval or certification signature, in file order."""

    serial: str
    """The signer certificate's serial, lower-case hex (as SignerCertificate.serial stores it)."""
    timestamp: datetime | None
    """The signature timestamp token's genTime (None if the signature carries none)."""
    timestamp_authority: str | None
    """The TSA certificate's common name."""


@dataclass(frozen=True)
class PdfSignatures:
    signatures: tuple[SignatureFact, ...]
    document_timestamps: tuple[datetime, ...]
    """genTime of each document timestamp (B-LTA), in file order."""


def _common_name(cert: object) -> str | None:
    try:
        return str(cert.subject.native.get("common_name"))  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return None


def _signer_cert(signed: cms.SignedData) -> object | None:
    sid = signed["signer_infos"][0]["sid"]
    if sid.name != "issuer_and_serial_number":
        return None
    serial = sid.chosen["serial_number"].native
    for choice in signed["certificates"] or []:
        cert = choice.chosen
        if choice.name == "certificate" and cert.serial_number == serial:
            return cert
    return None


def _token_time(token: cms.ContentInfo) -> tuple[datetime | None, str | None]:
    signed = token["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    tsa = _signer_cert(signed)
    return info["gen_time"].native, _common_name(tsa) if tsa is not None else None


def _signature_token(signed: cms.SignedData) -> cms.ContentInfo | None:
    attrs = signed["signer_infos"][0]["unsigned_attrs"]
    if isinstance(attrs, core.Void):  # .native would decode the whole token, CRLs and all
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            token: cms.ContentInfo = attr["values"][0]
            return token
    return None


def read_signatures(pdf: bytes) -> PdfSignatures:
    """Every signature and document timestamp in ``pdf`` (one of ours), in file order."""
    signatures: list[SignatureFact] = []
    doc_timestamps: list[datetime] = []
    seen: set[tuple[int, ...]] = set()
    for match in _BYTE_RANGE.finditer(pdf):
        a, b, c, d = (int(g) for g in match.groups())
        if (a, b, c, d) in seen or a != 0 or not b < c <= len(pdf):
            continue
        seen.add((a, b, c, d))
        hex_contents = pdf[b:c].strip().strip(b"<>")
        try:
            info = cms.ContentInfo.load(bytes.fromhex(hex_contents.decode("ascii")))
            signed = info["content"]
            if signed["encap_content_info"]["content_type"].native == "tst_info":
                when, _tsa = _token_time(info)
                if when is not None:
                    doc_timestamps.append(when)
                continue
            cert = _signer_cert(signed)
            token = _signature_token(signed)
            when, tsa = _token_time(token) if token is not None else (None, None)
        except (ValueError, TypeError, KeyError, AssertionError):
            continue  # not a CMS object we made; the upload validator is where that matters
        serial = f"{cert.serial_number:x}" if cert is not None else ""  # type: ignore[attr-defined]
        signatures.append(SignatureFact(serial, when, tsa))
    return PdfSignatures(tuple(signatures), tuple(doc_timestamps))


_cache: Lru[str, PdfSignatures] = Lru(4096)


def cached_signatures(sha256: str, read_pdf: Callable[[str], bytes]) -> PdfSignatures:
    """``read_signatures`` of the archived revision ``sha256``, read from the archive at most once."""
    return _cache.get(sha256, lambda: read_signatures(read_pdf(sha256)))
