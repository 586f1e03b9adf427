"""Pure signing rules: which kinds are signed online, when each may be sent, party order, whose turn.

Touches no database, archive or clock: callers pass the states and dates in and act on the answer.
Every refusal is an :class:`~service.errors.AppError` with the HTTP status a person should see.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta

from doc_templates.kinds import PARTY_TITLES, get_kind
from service.documents.service import PER_YEAR_KINDS
from service.errors import AppError, Conflict
from storage.models import OrgKind, RequestStatus, Role

__all__ = [
    "LINK_DAYS",
    "PER_YEAR",
    "SIGNED_ONLINE",
    "LinkDead",
    "NotReady",
    "OutOfOrder",
    "account_party",
    "check_can_sign",
    "check_document_open",
    "check_ready",
    "check_signable",
    "default_link_expiry",
    "next_open",
    "party_order",
    "service_year",
    "whose_turn",
]

PENDING, COMPLETED, DECLINED, VOIDED = "pending", "completed", "declined", "voided"

#: Kinds that several parties sign one after another. Notices and certificates are sealed by the
#: region office at issuance instead.
SIGNED_ONLINE = ("agreement", "appraisal", "evaluation")
#: Kinds issued once per service year (实施方案 一: 服务协议一年一签; 三(三): 年度考核); the others once per term.
PER_YEAR = PER_YEAR_KINDS
#: How long a link lasts when the office names no date and the cohort's deadline does not apply.
LINK_DAYS = 30


class OutOfOrder(Conflict):
    code = "out_of_order"


class NotReady(Conflict):
    """The document cannot be sent for signing yet (grade not recorded, service not over …)."""

    code = "not_ready"


class LinkDead(AppError):
    """The link can never be used again (signed, voided, declined, expired): 410 Gone."""

    status = 410
    code = "link_dead"


def check_signable(kind_code: str) -> None:
    """Refuse kinds that are not signed online (422: the request names the wrong kind)."""
    if kind_code not in SIGNED_ONLINE:
        names = "、".join(get_kind(k).title for k in SIGNED_ONLINE)
        raise AppError(f"只有{names}需要在线签署", status=422, code="not_signable_kind")


def service_year(kind_code: str, year: int | None) -> int | None:
    """The service year a document of this kind is for: per-year kinds default to year 1, others have none."""
    return (year or 1) if kind_code in PER_YEAR else None


def party_order(kind_code: str, overrides: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """The kind's signing order: the configured override if any, else the kind's default.

    An override must name exactly the kind's parties, each once.
    """
    kind = get_kind(kind_code)
    wanted = tuple((overrides or {}).get(kind_code) or kind.parties)
    if sorted(wanted) != sorted(kind.parties):
        raise ValueError(f"signing order for {kind_code} must be a permutation of {kind.parties}: {wanted}")
    return wanted


# --- when a document may go out ---------------------------------------------------------------------


def check_ready(
    kind_code: str,
    *,
    year: int | None,
    agreed_years: int,
    graded_years: Collection[int],
    service_end: date,
    today: date,
) -> None:
    """Refuse (409 :class:`NotReady`) a document that may not be sent for signing yet.

    - 三方服务协议: any agreed service year (实施方案 一: 服务协议一年一签).
    - 年度考核表: the year's grade must be recorded, since the form states it (实施方案 三(三)).
    - 服务鉴定表: from the last day of service on (实施方案 四4: 做好服务期满鉴定), every year
      appraised, because the form lists each year's grade (三(一)4).

    ``service_end`` is the last day of the agreed service; ``graded_years`` the years with a grade.
    """
    if kind_code in PER_YEAR and not 1 <= (year or 0) <= agreed_years:
        raise NotReady(
            f"约定服务期为{agreed_years}年，没有第{year}服务年的{get_kind(kind_code).title}",
            code="year_out_of_range",
        )
    if kind_code == "appraisal" and year not in graded_years:
        raise NotReady(
            f"第{year}服务年的年度考核等次尚未记录，记录后才能发送年度考核表签署", code="appraisal_not_graded"
        )
    if kind_code == "evaluation":
        if today < service_end:
            raise NotReady(
                f"服务期至{service_end.year}年{service_end.month}月{service_end.day}日届满，届满之日起才能发送服务鉴定表签署",
                code="service_not_ended",
            )
        missing = [n for n in range(1, agreed_years + 1) if n not in graded_years]
        if missing:
            years = "、".join(f"第{n}年" for n in missing)
            raise NotReady(f"{years}尚未记录年度考核，不能发送服务鉴定表签署", code="appraisal_missing")


def default_link_expiry(kind_code: str, year: int | None, signing_deadline: date, today: date) -> date:
    """The day a link expires when the office names none.

    First-year agreements are due by the cohort's deadline (实施方案 二(三)3: 8月14日之前签订三方服务协议);
    later agreements, appraisals and evaluations have no deadline in the plan: ``LINK_DAYS`` days.
    """
    if kind_code == "agreement" and (year or 1) == 1:
        return signing_deadline
    return today + timedelta(days=LINK_DAYS)


# --- whose turn --------------------------------------------------------------------------------------


def whose_turn(statuses: Sequence[tuple[str, str]]) -> str | None:
    """The party whose request is open, given ``(party, status)`` in signing order; None if nobody's."""
    for party, status in statuses:
        if status == RequestStatus.OPEN.value:
            return party
    return None


def next_open(statuses: Sequence[str], signed_position: int) -> int | None:
    """The position that opens once ``signed_position`` has signed; None if that was the last."""
    for pos in range(signed_position + 1, len(statuses)):
        if statuses[pos] == RequestStatus.WAITING.value:
            return pos
    return None


def check_document_open(signing_state: str, document_status: str) -> None:
    """Refuse any action on a document whose signing is over."""
    if signing_state == VOIDED or document_status != "issued":
        raise LinkDead("该文件已作废，签署链接已失效", code="document_voided")
    if signing_state == DECLINED:
        raise LinkDead("该文件已被拒签，签署已终止", code="document_declined")
    if signing_state == COMPLETED:
        raise LinkDead("该文件已完成签署，链接已失效", code="document_completed")
    if signing_state != PENDING:
        raise Conflict("该文件不需要在线签署", code="not_signable")


def check_can_sign(request_status: str, turn: str | None) -> None:
    """Refuse a party who has signed, was voided or whose turn has not come."""
    if request_status == RequestStatus.SIGNED.value:
        raise LinkDead("您已完成签署，该签署链接已使用", code="link_used")
    if request_status in (RequestStatus.VOIDED.value, RequestStatus.DECLINED.value):
        raise LinkDead("该签署请求已作废", code="request_voided")
    if request_status == RequestStatus.WAITING.value:
        who = f"（当前待签署方：{turn}）" if turn else ""
        raise OutOfOrder(f"尚未轮到您签署，请等待前序签署方完成后再签{who}")


# --- who may sign from an account ----------------------------------------------------------------------

# A logged-in user signs for their organization only in the role that organization plays: the
# role and the organization's kind must agree, so a misconfigured account (say a region admin
# attached to a unit) signs for nobody. Volunteers sign by link and code only.
_ACCOUNT_PARTIES: dict[Role, tuple[OrgKind, str]] = {
    Role.REGION_ADMIN: (OrgKind.REGION_OFFICE, "region_office"),
    Role.COUNTY_OFFICE: (OrgKind.COUNTY_OFFICE, "county_office"),
    Role.SERVICE_UNIT: (OrgKind.SERVICE_UNIT, "unit"),
}


def account_party(role: str, organization_kind: str | None) -> str | None:
    """The party a user of ``role`` in an organization of ``organization_kind`` signs as; None if none."""
    try:
        wanted = _ACCOUNT_PARTIES.get(Role(role))
    except ValueError:
        return None
    if wanted is None or organization_kind != wanted[0].value:
        return None
    return wanted[1]


def party_title(party: str | None) -> str | None:
    return PARTY_TITLES.get(party, party) if party else None
