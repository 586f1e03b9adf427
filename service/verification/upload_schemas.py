"""The upload validation report as JSON: each check with its Chinese reason, the verdict, and the
signatures found. Nothing personal beyond what the uploaded file itself carries is added: the
document is named by kind and number, signers by their role, not by name."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from doc_templates.kinds import get_kind
from service.pki.fields import role_label
from service.verification.upload import UploadReport

VerdictText = Literal["有效", "无效", "无法验证"]


class CheckRead(BaseModel):
    code: str = Field(description="检查项代码，如 integrity、binding")
    title: str = Field(description="检查项（中文）")
    passed: bool
    reason: str = Field(description="通过或不通过的原因（中文）")


class SignatureRead(BaseModel):
    field: str = Field(description="签名域名称")
    party: str = Field(description="签署方，如 甲方（服务县项目办）；文档时间戳为“文档时间戳”")
    doc_timestamp: bool
    time: datetime | None = Field(description="时间戳时间（UTC）")
    serial: str | None = Field(description="签名证书（或时间戳证书）序列号，十六进制")


class UploadedDocument(BaseModel):
    kind: str
    title: str
    number: str
    status: str = Field(description="issued | revoked | superseded")


class UploadReportRead(BaseModel):
    verdict: VerdictText = Field(
        description="有效：每一项检查都通过；无效：至少一项不通过；无法验证：文件无法解析"
    )
    valid: bool
    sha256: str = Field(description="上传文件的SHA-256")
    document: UploadedDocument | None
    checks: list[CheckRead]
    signatures: list[SignatureRead]

    @classmethod
    def of(cls, report: UploadReport) -> UploadReportRead:
        kind = get_kind(report.document.kind) if report.document is not None else None

        def party(field: str, doc_ts: bool) -> str:
            if doc_ts:
                return "文档时间戳"
            name = field.removeprefix("sig_")
            return role_label(kind, name) if kind is not None and name in kind.parties else field

        doc = report.document
        return cls(
            verdict=report.verdict.value,
            valid=report.verdict.value == "有效",
            sha256=report.sha256,
            document=UploadedDocument(kind=doc.kind, title=doc.title, number=doc.number, status=doc.status)
            if doc is not None
            else None,
            checks=[
                CheckRead(code=c.code, title=c.title, passed=c.passed, reason=c.reason) for c in report.checks
            ],
            signatures=[
                SignatureRead(
                    field=s.field_name,
                    party=party(s.field_name, s.doc_timestamp),
                    doc_timestamp=s.doc_timestamp,
                    time=s.time,
                    serial=s.signer_serial,
                )
                for s in report.signatures
            ],
        )
