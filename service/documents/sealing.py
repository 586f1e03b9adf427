"""The region office's seal on documents it issues alone (确认通知书, 服务证书): signed at issuance,
batch included, then finished to B-LTA so it verifies after certificates expire."""

from __future__ import annotations

from sqlmodel import Session

from doc_templates.kinds import get_kind
from service.documents.issuing import Sealer
from service.organizations.service import region_office
from service.pki import service as pki
from service.pki.fields import fields_for, role_label
from signing import StampSpec, finish_lta, sign_pdf

SEALED_AT_ISSUANCE = ("notice", "certificate")


def region_sealer(session: Session) -> Sealer:
    """A sealer bound to the region office's key; the key and fonts load once per batch, not per document."""
    office = region_office(session)
    _record, signer = pki.signer_for(session, organization=office)
    fonts, tsa, trust = pki.stamp_fonts(), pki.timestamper(), pki.trust()

    def seal(kind_code: str, pdf: bytes) -> bytes:
        kind = get_kind(kind_code)
        if kind_code not in SEALED_AT_ISSUANCE:
            return pdf
        (field,) = fields_for(kind, pdf)
        stamp = StampSpec(role=role_label(kind, kind.parties[0]), signer_name=office.name)
        signed = sign_pdf(pdf, signer, field, timestamper=tsa, certify=True, stamp=stamp, fonts=fonts)
        return finish_lta(signed, trust, timestamper=tsa)

    return seal
