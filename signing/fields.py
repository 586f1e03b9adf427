"""Signature fields and the locks that make a multi-party signing order tamper-evident.

The caller (``doc_templates.anchors``) finds each party's box; this module only turns the
ordered list of boxes into pyHanko field specs:

* The first signature certifies the document with DocMDP level 2 (form filling and signing).
  Certification happens before the other parties' fields exist, so *all* fields are created
  empty in the certifying revision: creating new visible fields after a certification
  signature is a violation in pyHanko's diff policy (and rightly so — it is how a stamp
  would be smuggled onto a certified page).
* Field *i* carries a FieldMDP lock over every field except those still to be signed after
  it (``/Exclude`` later fields): later parties can fill their own field, nothing else.
* The last field locks all fields (``/All``) and sets DocMDP "no changes" (``/P 1``): after
  the last signature only validation data and document timestamps (B-LTA) may be added.
* Each field's seed value dictionary asks for ETSI.CAdES.detached with SHA-256.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    SigSeedSubFilter,
    SigSeedValFlags,
    SigSeedValueSpec,
)

from .errors import SigningError

__all__ = ["CERTIFY_PERMISSION", "FieldSpec", "field_plan"]

CERTIFY_PERMISSION = MDPPerm.FILL_FORMS
"""DocMDP level of the certification signature: form filling and signing allowed."""

_SEED = SigSeedValueSpec(
    flags=SigSeedValFlags.SUBFILTER | SigSeedValFlags.DIGEST_METHOD,
    subfilters=[SigSeedSubFilter.PADES],
    digest_methods=["sha256"],
)


@dataclass(frozen=True)
class FieldSpec:
    """Where one party signs.

    :param name: field name, unique in the document (e.g. ``party_a``); ASCII, no dots.
    """

    name: str
    """Field name (fully qualified; no dots)."""
    page: int
    """Zero-based page index."""
    box: tuple[float, float, float, float]
    """``(x1, y1, x2, y2)`` in PDF points, origin bottom-left, as the anchor finder reports."""

    def __post_init__(self) -> None:
        if not self.name or "." in self.name or not self.name.isascii():
            raise SigningError("签名域名称不合法。", f"bad field name {self.name!r}")
        x1, y1, x2, y2 = self.box
        if x2 <= x1 or y2 <= y1 or self.page < 0:
            raise SigningError("签名位置不合法。", f"bad box {self.box} on page {self.page}")


def _lock(later: Sequence[FieldSpec]) -> FieldMDPSpec:
    if not later:
        return FieldMDPSpec(action=FieldMDPAction.ALL)
    return FieldMDPSpec(action=FieldMDPAction.EXCLUDE, fields=[f.name for f in later])


def field_plan(order: Sequence[FieldSpec]) -> list[SigFieldSpec]:
    """pyHanko field specs for ``order`` (signing order), each with its lock.

    :param order: every party's field, first signer first.
    :return: one :class:`~pyhanko.sign.fields.SigFieldSpec` per field, same order.
    """
    names = [f.name for f in order]
    if len(set(names)) != len(names):
        raise SigningError("签名域名称重复。", f"duplicate field names {names}")
    specs = []
    for i, f in enumerate(order):
        later = order[i + 1 :]
        x1, y1, x2, y2 = f.box
        specs.append(
            SigFieldSpec(
                sig_field_name=f.name,
                on_page=f.page,
                box=(round(x1), round(y1), round(x2), round(y2)),
                field_mdp_spec=_lock(later),
                doc_mdp_update_value=None if later else MDPPerm.NO_CHANGES,
                seed_value_dict=_SEED,
            )
        )
    return specs
