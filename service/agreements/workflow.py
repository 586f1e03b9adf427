"""Pure signing rules: party order per kind, whose turn it is, which state changes are allowed.

Touches no database, archive or clock: callers pass the states in and act on the answer. Every
refusal is an :class:`~service.errors.AppError` with the HTTP status a person should see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from doc_templates.kinds import get_kind
from service.errors import AppError, Conflict
from storage.models import RequestStatus

__all__ = [
    "LinkDead",
    "OutOfOrder",
    "check_can_sign",
    "check_document_open",
    "next_open",
    "party_order",
    "whose_turn",
]

PENDING, COMPLETED, DECLINED, VOIDED = "pending", "completed", "declined", "voided"


class OutOfOrder(Conflict):
    code = "out_of_order"


class LinkDead(AppError):
    """The link can never be used again (signed, voided, declined, expired): 410 Gone."""

    status = 410
    code = "link_dead"


def party_order(kind_code: str, overrides: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """The kind's signing order: the configured override if any, else the kind's default.

    An override must name exactly the kind's parties, each once.
    """
    kind = get_kind(kind_code)
    wanted = tuple((overrides or {}).get(kind_code) or kind.parties)
    if sorted(wanted) != sorted(kind.parties):
        raise ValueError(f"signing order for {kind_code} must be a permutation of {kind.parties}: {wanted}")
    return wanted


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
