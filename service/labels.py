"""The Chinese names of audit events, document states and signing-request states, as people read them.

One table each, for every place that shows them: the office pages and the signing report (a
signed PDF) must not call the same event or state by two names. Display only: no rule lives here.
"""

from __future__ import annotations

EVENTS = {
    "created": "创建",
    "sent": "发送签署链接",
    "viewed": "查看",
    "code_sent": "发送验证码",
    "signed": "签署",
    "declined": "拒签",
    "voided": "作废",
    "completed": "全部签署完成",
    "downloaded": "下载",
    "verified": "核验",  # a verifier's identity check or upload, not the signer's 验证码
    "revoked": "撤销",
    "superseded": "被新版本替代",
    "reported": "生成签署报告",
}

REQUEST_STATUS = {
    "waiting": "等待前序签署",
    "open": "待签署",
    "signed": "已签署",
    "declined": "已拒签",
    "voided": "已作废",
}

DOCUMENT_STATUS = {"issued": "有效", "revoked": "已撤销", "superseded": "已被新版本替代"}


def event_label(event: str) -> str:
    return EVENTS.get(event, event)


def request_status(status: str) -> str:
    return REQUEST_STATUS.get(status, status)


def document_status(status: str) -> str:
    return DOCUMENT_STATUS.get(status, status)
