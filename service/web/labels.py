"""Chinese labels for states, events and roles, as the pages show them. Display only: no rule lives here."""

from __future__ import annotations

from doc_templates.kinds import PARTY_TITLES
from storage.models import Role

REQUEST_STATUS = {
    "waiting": "等待前序签署",
    "open": "待签署",
    "signed": "已签署",
    "declined": "已拒签",
    "voided": "已作废",
}

# The dashboard's five agreement states. "部分签署" is a pending agreement that someone has signed.
AGREEMENT_STATES = {
    "unsigned": "待签",
    "partial": "部分签署",
    "completed": "已完成",
    "declined": "已拒签",
    "voided": "已作废",
}

EVENTS = {
    "created": "创建",
    "sent": "发送签署链接",
    "viewed": "查看",
    "code_sent": "发送验证码",
    "signed": "签署",
    "declined": "拒签",
    "voided": "作废",
    "completed": "签署完成",
    "downloaded": "下载",
    "verified": "验证",
    "revoked": "撤销",
    "superseded": "被新版本替代",
    "reported": "生成签署报告",
}

ROLES = {
    Role.REGION_ADMIN.value: "自治区项目办",
    Role.LEAGUE_OFFICE.value: "盟市项目办",
    Role.COUNTY_OFFICE.value: "旗县项目办",
    Role.SERVICE_UNIT.value: "服务单位",
    Role.VOLUNTEER.value: "志愿者",
}

DOCUMENT_STATUS = {"issued": "有效", "revoked": "已撤销", "superseded": "已被新版本替代"}


def party_title(party: str | None) -> str:
    return PARTY_TITLES.get(party or "", party or "")


def request_status(status: str) -> str:
    return REQUEST_STATUS.get(status, status)


def event_label(event: str) -> str:
    return EVENTS.get(event, event)


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def agreement_state(signing_state: str, signed: int) -> str:
    """Which of the dashboard's five states an agreement is in (a key of AGREEMENT_STATES)."""
    if signing_state == "pending":
        return "partial" if signed else "unsigned"
    return signing_state
