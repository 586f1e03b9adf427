"""Just enough DER to assemble CMS structures from pre-encoded parts.

asn1crypto re-encodes every object it did not parse itself, child by child: building one RFC 3161
token or one CMS signature that way costs 5–12 ms of CPU, almost all of it spent re-encoding the
same certificates and names for every document. The signers in :mod:`signing.timestamps` and
:mod:`signing.sign` therefore encode what never changes (certificates, issuer names, algorithm
identifiers, the signing-certificate attribute) once, and per signature only join bytes. The
result is loaded back with asn1crypto, so everything downstream sees ordinary objects.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import core

__all__ = [
    "explicit",
    "generalized_time",
    "integer",
    "octet_string",
    "oid",
    "sequence",
    "set_of",
    "tlv",
    "utc_time",
]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    """One element: a single-byte tag, the DER length, the content."""
    return bytes([tag]) + _length(len(content)) + content


def sequence(*items: bytes) -> bytes:
    """SEQUENCE of already-encoded elements, in the order given."""
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes, tag: int = 0x31) -> bytes:
    """SET OF already-encoded elements, sorted as DER requires (X.690 §11.6).

    :param tag: ``0x31`` for a universal SET; ``0xA0`` etc. for an IMPLICIT context tag.
    """
    return tlv(tag, b"".join(sorted(items)))


def explicit(number: int, content: bytes) -> bytes:
    """``[number] EXPLICIT`` around one encoded element."""
    return tlv(0xA0 | number, content)


def integer(value: int) -> bytes:
    """INTEGER (two's complement, minimal length)."""
    return core.Integer(value).dump()


def octet_string(data: bytes) -> bytes:
    """OCTET STRING."""
    return tlv(0x04, data)


def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from its dotted form."""
    return core.ObjectIdentifier(dotted).dump()


def signer_info(
    sid: bytes,
    digest_alg: bytes,
    signed_attrs: tuple[bytes, ...],
    sig_alg: bytes,
    signature: bytes,
    unsigned: bytes = b"",
) -> bytes:
    """CMS SignerInfo, version 1 (RFC 5652 §5.3), from encoded parts; ``unsigned`` is the [1] set or empty."""
    return sequence(
        integer(1),
        sid,
        digest_alg,
        set_of(*signed_attrs, tag=0xA0),
        sig_alg,
        octet_string(signature),
        unsigned,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC)


def utc_time(moment: datetime) -> bytes:
    """UTCTime ``YYMMDDHHMMSSZ`` (whole seconds)."""
    return tlv(0x17, _utc(moment).strftime("%y%m%d%H%M%SZ").encode("ascii"))


def generalized_time(moment: datetime) -> bytes:
    """GeneralizedTime ``YYYYMMDDHHMMSSZ`` (whole seconds, as RFC 3161/5280 want it)."""
    return tlv(0x18, _utc(moment).strftime("%Y%m%d%H%M%SZ").encode("ascii"))
