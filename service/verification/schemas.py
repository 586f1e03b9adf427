"""The public statement a verifier gets for a code, and the identity check's question and answer.

Every field here is public. Nothing identifies the holder beyond the masked name: adding a field
means deciding, in masking.py's spirit, that an anonymous verifier may see it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

StatusCode = Literal["valid", "signing", "declined", "revoked", "superseded", "not_found"]
IdentityResult = Literal["一致", "不一致"]

#: What each status is called on the page and in the JSON.
STATUS_TEXT: dict[str, str] = {
    "valid": "有效",
    "signing": "签署中",
    "declined": "已拒签",
    "revoked": "已撤销",
    "superseded": "已被新版本替代",
    "not_found": "未找到",
}


class Revocation(BaseModel):
    reason: str
    at: datetime | None = Field(description="撤销时间（北京时间）")


class Supersession(BaseModel):
    reason: str | None
    at: datetime | None = Field(description="替代时间（北京时间）")
    new_code: str = Field(description="新版本的验证码")
    new_url: str = Field(description="新版本的验证页面")


class DocumentInfo(BaseModel):
    kind: str = Field(description="notice | agreement | appraisal | evaluation | certificate")
    title: str = Field(description="文书名称，如 服务证书")
    number: str = Field(description="文书编号")
    issuer: str = Field(description="出具单位")
    issue_date: date
    sha256: str = Field(description="当前版本PDF的SHA-256")
    code: str = Field(description="验证码（规范形式）")


class Placement(BaseModel):
    project_type: str = Field(description="全国项目 | 地方项目")
    track: str = Field(description="专项，如 基础教育")
    teaching_corps: bool = Field(description="是否研究生支教团")
    league: str = Field(description="服务盟市")
    county: str = Field(description="服务旗县")
    unit: str = Field(description="服务单位")


class ServiceYear(BaseModel):
    year: int = Field(description="第N服务年")
    start: date
    end: date
    grade: str | None = Field(description="年度考核等次；未考核为空")
    qualified: bool | None = Field(description="考核合格；未考核为空")


class Service(BaseModel):
    start: date = Field(description="服务开始（报到）日期")
    end: date = Field(description="服务结束日期：服务证书、鉴定表为实际，其余为约定")
    completed: bool = Field(description="本文书是否证明服务期满")
    agreed_years: int
    length: str | None = Field(description="实际服务时间，如 2年；本文书不证明服务期满时为空")
    years_served: int | None = Field(description="实际服务整年数")
    years: list[ServiceYear] = Field(description="每个服务年及其年度考核")


class Eligibility(BaseModel):
    policy: str = Field(description="政策名称")
    eligible: bool | None = Field(description="是否符合；本文书不能证明时为空")
    conclusion: str = Field(description="结论（中文）")
    window_start: date | None
    window_end: date | None
    rule: str = Field(description="所依据的实施方案条款原文")
    reasons: list[str] = Field(description="不符合或不能判断的原因")
    notes: list[str] = Field(description="系统无法核实、须另行核实的条件")


class Signer(BaseModel):
    role: str = Field(description="签署方身份，如 甲方（服务县项目办）")
    name: str | None = Field(description="签署单位名称；志愿者为脱敏姓名")
    status: str = Field(description="已签署 | 待签署 | 等待前序签署 | 已拒签 | 已作废")
    signed_at: datetime | None = Field(description="签署时间（北京时间）")
    timestamp: datetime | None = Field(description="签名时间戳（RFC 3161，北京时间）")
    timestamp_authority: str | None
    certificate_serial: str | None = Field(description="签名证书序列号（十六进制）")


class Statement(BaseModel):
    """The answer to a code lookup. ``not_found`` covers unknown and malformed codes alike."""

    status: str = Field(description="有效 | 签署中 | 已拒签 | 已撤销 | 已被新版本替代 | 未找到")
    status_code: StatusCode
    message: str = Field(description="给核验人的一句话说明")
    document: DocumentInfo | None = None
    revoked: Revocation | None = None
    superseded: Supersession | None = None
    holder_name: str | None = Field(default=None, description="持有人姓名（脱敏）")
    placement: Placement | None = None
    service: Service | None = None
    eligibility: list[Eligibility] = Field(default_factory=list)
    signers: list[Signer] = Field(default_factory=list)
    document_timestamps: list[datetime] = Field(
        default_factory=list, description="文档时间戳（B-LTA，北京时间）"
    )


class IdentityQuestion(BaseModel):
    """Exactly one of the two: the holder's full name or ID number as the verifier has it."""

    name: str | None = Field(default=None, max_length=50)
    id_number: str | None = Field(default=None, max_length=30)

    @model_validator(mode="after")
    def _exactly_one(self) -> IdentityQuestion:
        given = [v for v in (self.name, self.id_number) if v is not None and v.strip()]
        if len(given) != 1:
            raise ValueError("请填写姓名或身份证号其中一项")
        return self


class IdentityAnswer(BaseModel):
    result: IdentityResult
