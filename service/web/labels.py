"""Chinese labels only the pages show (agreement states, roles, parties). Display only: no rule lives here.

Events and document and request states are named in :mod:`service.labels`, shared with the
signing report.
"""

from __future__ import annotations

from doc_templates.kinds import PARTY_TITLES
from storage.models import Role

# The dashboard's five agreement states. "部分签署" is a pending agreement that someone has signed.
AGREEMENT_STATES = {
    "unsigned": "待签",
    "partial": "部分签署",
    "completed": "已完成",
    "declined": "已拒签",
    "voided": "已作废",
}

ROLES = {
    Role.REGION_ADMIN.value: "自治区项目办",
    Role.LEAGUE_OFFICE.value: "盟市项目办",
    Role.COUNTY_OFFICE.value: "旗县项目办",
    Role.SERVICE_UNIT.value: "服务单位",
    Role.VOLUNTEER.value: "志愿者",
}


def party_title(party: str | None) -> str:
    return PARTY_TITLES.get(party or "", party or "")


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def agreement_state(signing_state: str, signed: int) -> str:
    """Which of the dashboard's five states an agreement is in (a key of AGREEMENT_STATES)."""
    if signing_state == "pending":
        return "partial" if signed else "unsigned"
    return signing_state
