"""The public statement for one document, assembled from values already read: no database, no I/O.

What the document is, whether it stands (有效 / 已撤销 / 已被新版本替代 …), where and how long the
holder served, each service year's appraisal, and what the service makes the holder eligible for
under the plan, with the plan's clause quoted. The eligibility arithmetic is the programme's
(service.cohorts.rules); this module only decides what a document can prove: 服务证书 and
服务鉴定表 certify a completed service, a 确认通知书 or 三方服务协议 does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from doc_templates.context import CertificateData, DocumentData, EvaluationData, cn_date
from doc_templates.kinds import get_kind
from service.cohorts import rules
from service.verification import schemas
from service.verification.masking import mask_name

__all__ = ["DocumentRow", "build", "not_found", "status_of", "to_china"]

CHINA = ZoneInfo("Asia/Shanghai")

POSTGRADUATE_POLICY = "报考硕士研究生初试总分加10分"
FRESH_GRADUATE_POLICY = "同等享受应届高校毕业生相关政策"

NOT_FOUND_MESSAGE = (
    "未找到该验证码对应的文书。请核对验证码（16位字母或数字，不区分大小写，可不输入连字符）；"
    "核对无误仍未找到的，该文书不是本平台出具的。"
)


@dataclass(frozen=True)
class DocumentRow:
    """The registry row's public facts, as the lookup query returns them."""

    id: int
    kind: str
    number: str
    code: str
    status: str
    status_reason: str | None
    status_changed_at: datetime | None
    current_sha256: str
    signing_state: str
    successor_code: str | None


def to_china(moment: datetime | None) -> datetime | None:
    """Beijing time for people; a naive value (SQLite) is UTC as stored."""
    if moment is None:
        return None
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(CHINA)


def status_of(row: DocumentRow) -> schemas.StatusCode:
    """Superseded and revoked first (a re-issued agreement is both voided and superseded: the link to
    its successor is what a verifier needs); a document still being signed, or declined, is not in force."""
    if row.status == "superseded":
        return "superseded"
    if row.status == "revoked" or row.signing_state == "voided":
        return "revoked"
    if row.signing_state == "pending":
        return "signing"
    if row.signing_state == "declined":
        return "declined"
    return "valid"


def not_found() -> schemas.Statement:
    """The one answer for unknown and malformed codes alike."""
    return schemas.Statement(
        status=schemas.STATUS_TEXT["not_found"], status_code="not_found", message=NOT_FOUND_MESSAGE
    )


def _message(code: schemas.StatusCode, row: DocumentRow, title: str) -> str:
    if code == "revoked":
        at = to_china(row.status_changed_at)
        when = f"于{cn_date(at.date())}" if at else ""
        return f"该{title}已{when}被撤销，不再有效。撤销原因：{row.status_reason or '未说明'}"
    if code == "superseded":
        return f"该{title}已被新版本替代，不再有效，请以新版本为准。"
    if code == "signing":
        return f"该{title}尚未由各方签署完毕，暂不生效。"
    if code == "declined":
        return f"该{title}已被签署方拒签，不生效。"
    return f"该{title}由本平台登记出具，现行有效。请核对持有人身份，并核对纸质或PDF件与本页信息一致。"


def _service(
    data: DocumentData, grades: Mapping[int, tuple[str, bool]]
) -> tuple[schemas.Service, date | None]:
    """The service period the document shows, and its last day if the document proves it complete."""
    pl = data.placement
    completed = isinstance(data, CertificateData | EvaluationData)
    periods = rules.agreement_periods(pl.report_date, pl.agreed_years)
    if isinstance(data, CertificateData | EvaluationData):
        end, served = data.end, data.years_served
        periods = periods[:served]
        length: str | None = rules.service_length(pl.report_date, end).text()
    else:
        end, served, length = rules.service_end(pl.report_date, pl.agreed_years), None, None
    years = [
        schemas.ServiceYear(
            year=p.year,
            start=p.start,
            end=p.end,
            grade=grades[p.year][0] if p.year in grades else None,
            qualified=grades[p.year][1] if p.year in grades else None,
        )
        for p in periods
    ]
    service = schemas.Service(
        start=pl.report_date,
        end=end,
        completed=completed,
        agreed_years=pl.agreed_years,
        length=length,
        years_served=served,
        years=years,
    )
    return service, end if completed else None


def _conclusion(policy: str, e: rules.Eligibility) -> str:
    if not e.eligible:
        return "不符合：" + "；".join(e.reasons)
    if e.window_start is None or e.window_end is None:
        return "符合服务和考核条件；期限起算日须另行核实"
    span = f"{cn_date(e.window_start)}至{cn_date(e.window_end)}"
    if policy == POSTGRADUATE_POLICY:
        return f"符合：{span}期间报考硕士研究生，初试总分加10分，同等条件下优先录取"
    return f"符合：{span}期间可同等享受应届高校毕业生相关政策"


def _eligibility(
    code: schemas.StatusCode,
    title: str,
    data: DocumentData,
    last_day: date | None,
    grades: Mapping[int, tuple[str, bool]],
) -> list[schemas.Eligibility]:
    pl = data.placement
    graded = [rules.YearGrade(year, grade, ok) for year, (grade, ok) in sorted(grades.items())]
    found = [
        (POSTGRADUATE_POLICY, rules.postgraduate_bonus(pl.report_date, last_day, graded)),
        (
            FRESH_GRADUATE_POLICY,
            rules.fresh_graduate_treatment(
                pl.report_date, last_day, graded, teaching_corps=pl.teaching_corps
            ),
        ),
    ]
    out = []
    for policy, e in found:
        if code != "valid":
            reason = f"该{title}{schemas.STATUS_TEXT[code]}，不能作为享受政策的依据"
            out.append(schemas.Eligibility(
                policy=policy, eligible=None, conclusion=reason, window_start=None, window_end=None,
                rule=e.rule, reasons=[reason], notes=e.notes,
            ))  # fmt: skip
        elif last_day is None:
            reason = f"{title}不证明服务期满，不能据此判断；服务期满后请核验服务证书"
            out.append(schemas.Eligibility(
                policy=policy, eligible=None, conclusion=reason, window_start=None, window_end=None,
                rule=e.rule, reasons=[reason], notes=e.notes,
            ))  # fmt: skip
        else:  # a window is shown only when it is open to the holder: else it would read as one
            out.append(schemas.Eligibility(
                policy=policy, eligible=e.eligible, conclusion=_conclusion(policy, e),
                window_start=e.window_start if e.eligible else None,
                window_end=e.window_end if e.eligible else None, rule=e.rule, reasons=e.reasons,
                notes=e.notes,
            ))  # fmt: skip
    return out


def build(
    row: DocumentRow,
    data: DocumentData,
    *,
    grades: Mapping[int, tuple[str, bool]],
    issuer: str,
    signers: Sequence[schemas.Signer],
    document_timestamps: Sequence[datetime],
    public_url: str,
) -> schemas.Statement:
    """The statement for a found document.

    :param grades: service year → (grade, counts as 考核合格), from the term's appraisals now.
    :param signers: each party in signing order, already masked (service.py resolves them).
    """
    kind = get_kind(row.kind)
    code = status_of(row)
    pl = data.placement
    service, last_day = _service(data, grades)
    revoked = (
        schemas.Revocation(reason=row.status_reason or "", at=to_china(row.status_changed_at))
        if code == "revoked"
        else None
    )
    superseded = (
        schemas.Supersession(
            reason=row.status_reason,
            at=to_china(row.status_changed_at),
            new_code=row.successor_code,
            new_url=f"{public_url.rstrip('/')}/v/{row.successor_code}",
        )
        if code == "superseded" and row.successor_code
        else None
    )
    return schemas.Statement(
        status=schemas.STATUS_TEXT[code],
        status_code=code,
        message=_message(code, row, kind.title),
        document=schemas.DocumentInfo(
            kind=kind.code,
            title=kind.title,
            number=row.number,
            issuer=issuer,
            issue_date=data.meta.issue_date,
            sha256=row.current_sha256,
            code=row.code,
        ),
        revoked=revoked,
        superseded=superseded,
        holder_name=mask_name(data.person.name),
        placement=schemas.Placement(
            project_type=pl.project_type,
            track=pl.track,
            teaching_corps=pl.teaching_corps,
            league=pl.league,
            county=pl.county,
            unit=pl.unit,
        ),
        service=service,
        eligibility=_eligibility(code, kind.title, data, last_day, grades),
        signers=list(signers),
        document_timestamps=[t for t in (to_china(m) for m in document_timestamps) if t is not None],
    )
