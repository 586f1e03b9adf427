"""What the documents API returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class DocumentRead(BaseModel):
    id: int
    kind: str
    number: str
    verification_code: str
    cohort_id: int
    term_id: int | None
    service_year: int | None
    status: str
    status_reason: str | None
    superseded_by_id: int | None
    template_sha256: str
    rendered_sha256: str
    current_sha256: str
    created_at: datetime


class BatchStart(BaseModel):
    cohort: str = Field(description="年度，如 2020-2021")
    kind: str = Field(default="notice", description="目前支持 notice（确认通知书）")


class BatchRead(BaseModel):
    batch_id: int
    kind: str
    status: str
    total: int
    done: int
    failed: int
    remaining: int
    rate: float = Field(description="最近一分钟的签发速度（份/秒）")
    eta_seconds: float | None
    failures: list[dict[str, object]] = Field(default_factory=list)


class IssueRequest(BaseModel):
    kind: str
    term_id: int
    year: int | None = Field(default=None, description="服务年度（协议、考核表）")
    reissue_reason: str | None = Field(default=None, description="重新签发并替代现有文书的原因")


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class TemplateRead(BaseModel):
    id: int
    kind: str
    sha256: str
    active: bool
    note: str | None
    created_at: datetime
