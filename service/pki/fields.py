"""Signature fields of a document, placed at its template's anchors: no coordinates in code."""

from __future__ import annotations

from doc_templates.anchors import AnchorBox, require_anchors
from doc_templates.kinds import PARTY_TITLES, Kind
from signing import FieldSpec

FIELD_WIDTH = 150.0  # points: room for three lines of stamp text
FIELD_HEIGHT = 54.0

ROLE_LABELS = {
    "agreement": {
        "county_office": "甲方（服务县项目办）",
        "unit": "乙方（服务单位）",
        "volunteer": "丙方（志愿者）",
    },
}


def field_name(party: str) -> str:
    return f"sig_{party}"


def field_for(party: str, anchor: AnchorBox) -> FieldSpec:
    return FieldSpec(field_name(party), anchor.page_index, anchor.field_box(FIELD_WIDTH, FIELD_HEIGHT))


def fields_for(kind: Kind, pdf: bytes) -> list[FieldSpec]:
    """One field per party, in signing order, each centred on that party's anchor.

    Every party's signature asks again for the same rendered PDF; :func:`find_anchors` keeps its
    answer per SHA-256, so only the first one runs ``pdftotext`` (and a batch-split notice none).
    """
    anchors = require_anchors(kind, pdf)
    return [field_for(party, anchors[party]) for party in kind.parties]


def role_label(kind: Kind, party: str) -> str:
    """What the stamp calls the party, e.g. 甲方（服务县项目办）."""
    return ROLE_LABELS.get(kind.code, {}).get(party, PARTY_TITLES.get(party, party))
