"""The five document kinds as data: one place says which parties sign what and which fields a template may use.

Signing, the registry's upload check and the tests read these definitions; none of them repeats a
party list or a field name of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AGREEMENT",
    "APPRAISAL",
    "CERTIFICATE",
    "EVALUATION",
    "KINDS",
    "KINDS_DIR",
    "NOTICE",
    "PARTY_TITLES",
    "Kind",
    "anchor_token",
    "get_kind",
]

KINDS_DIR = Path(__file__).resolve().parent / "kinds"

# Text that marks where a party's signature field goes. Plain ASCII, no spaces, so that PDF text
# extraction returns it as one word whatever font LibreOffice picks; printed tiny and white.
ANCHOR_PREFIX = "XIBU-SIG:"

PARTY_TITLES: dict[str, str] = {
    "region_office": "自治区项目办",
    "county_office": "服务县项目办",
    "unit": "服务单位",
    "volunteer": "志愿者",
}


def anchor_token(party: str) -> str:
    """The literal text a template carries in ``party``'s signature block."""
    return f"{ANCHOR_PREFIX}{party}"


@dataclass(frozen=True)
class Kind:
    """One document kind.

    ``variables`` are the top-level template names the kind's context provides; an uploaded
    template that uses any other name is refused, because rendering it would fail for every record.
    """

    code: str
    title: str
    #: Parties in signing order; each has an anchor in the template.
    parties: tuple[str, ...]
    variables: frozenset[str]

    @property
    def template_path(self) -> Path:
        return KINDS_DIR / f"{self.code}.docx"

    @property
    def anchors(self) -> tuple[str, ...]:
        return tuple(anchor_token(p) for p in self.parties)


NOTICE = Kind(
    code="notice",
    title="确认通知书",
    parties=("region_office",),
    variables=frozenset({"doc", "volunteer", "post", "report"}),
)
AGREEMENT = Kind(
    code="agreement",
    title="三方服务协议",
    parties=("county_office", "unit", "volunteer"),
    variables=frozenset({"doc", "volunteer", "post", "term", "allowance"}),
)
APPRAISAL = Kind(
    code="appraisal",
    title="年度考核表",
    parties=("volunteer", "unit", "county_office"),
    variables=frozenset({"doc", "volunteer", "post", "appraisal"}),
)
EVALUATION = Kind(
    code="evaluation",
    title="服务鉴定表",
    parties=("volunteer", "unit", "county_office", "region_office"),
    variables=frozenset({"doc", "volunteer", "post", "service", "evaluation"}),
)
CERTIFICATE = Kind(
    code="certificate",
    title="服务证书",
    parties=("region_office",),
    variables=frozenset({"doc", "volunteer", "post", "service"}),
)

KINDS: dict[str, Kind] = {k.code: k for k in (NOTICE, AGREEMENT, APPRAISAL, EVALUATION, CERTIFICATE)}


def get_kind(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise KeyError(f"unknown document kind {code!r}; known: {', '.join(KINDS)}") from None
