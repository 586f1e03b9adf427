"""Signature fields of a document, placed at its template's anchors: no coordinates in code."""

from __future__ import annotations

import hashlib
import threading

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

    Every party's signature looks the fields up again in the same rendered PDF, and finding
    anchors runs ``pdftotext`` (~20 ms, a fifth of a signature); the answer depends only on the
    bytes, so it is kept per (kind, SHA-256).
    """
    return list(_fields_cached(kind, hashlib.sha256(pdf).hexdigest(), pdf))


_CACHE_SIZE = 1024


def _fields_cached(kind: Kind, digest: str, pdf: bytes) -> tuple[FieldSpec, ...]:
    key = (kind.code, digest)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    anchors = require_anchors(kind, pdf)
    found = tuple(field_for(party, anchors[party]) for party in kind.parties)
    with _lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
    return found


_cache: dict[tuple[str, str], tuple[FieldSpec, ...]] = {}
_lock = threading.Lock()


def role_label(kind: Kind, party: str) -> str:
    """What the stamp calls the party, e.g. 甲方（服务县项目办）."""
    return ROLE_LABELS.get(kind.code, {}).get(party, PARTY_TITLES.get(party, party))
