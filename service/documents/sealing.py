"""The region office's seal on documents it issues alone (确认通知书, 服务证书): signed at issuance,
batch included, then finished to B-LTA so it verifies after certificates expire."""

from __future__ import annotations

from sqlmodel import Session

from doc_templates.kinds import get_kind
from service.documents.issuing import Sealer
from service.organizations.service import region_office
from service.pki import service as pki
from service.pki.fields import fields_for, role_label
from signing import FieldSpec, StampSpec, finish_lta, sign_pdf

SEALED_AT_ISSUANCE = ("notice", "certificate")

SEAL_SIZE = 113.0
"""Points: a 40 mm round seal, the size an office's official seal has on paper."""


def seal_field(field: FieldSpec, size: float = SEAL_SIZE) -> FieldSpec:
    """A square field for the round seal, centred where the template's anchor centres the stamp.

    The seal covers the printed issuer name and date on purpose, as an official seal does; it is
    drawn like ink (multiply blend), so that text stays readable through it.
    """
    x1, y1, x2, y2 = field.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half = size / 2
    return FieldSpec(field.name, field.page, (cx - half, cy - half, cx + half, cy + half))


def region_sealer(session: Session) -> Sealer:
    """A sealer bound to the region office's key; the key and fonts load once per batch, not per document."""
    office = region_office(session)
    _record, signer = pki.signer_for(session, organization=office)
    fonts, tsa = pki.stamp_fonts(), pki.timestamper()

    def seal(kind_code: str, pdf: bytes) -> bytes:
        kind = get_kind(kind_code)
        if kind_code not in SEALED_AT_ISSUANCE:
            return pdf
        (field,) = fields_for(kind, pdf)
        stamp = StampSpec(role=role_label(kind, kind.parties[0]), signer_name=office.name, seal=True)
        signed = sign_pdf(
            pdf, signer, seal_field(field), timestamper=tsa, certify=True, stamp=stamp, fonts=fonts
        )
        # trust() per document: it is cheap, and a revocation published mid-batch is seen at once.
        return finish_lta(signed, pki.trust(), timestamper=tsa)

    return seal
