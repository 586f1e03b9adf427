"""A party's turn: its link minted and sent when the turn opens, and what the parties are told.

Only the party whose turn it is holds a live link. Messages are queued on the session and go out
after its commit (:mod:`service.agreements.notify`), so a rolled-back request tells nobody anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from doc_templates.kinds import get_kind
from service.agreements import links, notify, workflow
from service.agreements.workflow import party_title
from service.audit import service as audit
from service.audit.service import Actor, Event
from service.config import get_settings
from storage.models import Document, RequestStatus, SigningRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedLink:
    """One party's link as handed out once: the token is not stored and cannot be shown again.

    A party whose turn has not come has no link yet: ``token``, ``url`` and ``expires_at`` are
    None, and the link is minted and sent when its turn opens.
    """

    party: str
    request_id: int
    token: str | None
    url: str | None
    expires_at: datetime | None
    recipient: str | None
    status: str = RequestStatus.OPEN.value


def new_link(
    session: Session, doc: Document, req: SigningRequest, expiry: datetime, actor: Actor
) -> IssuedLink:
    """A fresh token for ``req``, whose turn it is (any older link dies), sent to its recipient if any."""
    assert doc.id is not None and req.id is not None
    token, digest = links.new_token()
    req.token_hash, req.token_expires_at = digest, expiry
    url = links.link_url(get_settings().public_url, token)
    if req.recipient:
        notify.queue(
            session,
            notify.Message(
                to=req.recipient,
                subject=f"请签署{doc.number}",
                body=(
                    f"您好！西部计划《{get_kind(doc.kind).title}》（编号{doc.number}）现在轮到您以"
                    f"{party_title(req.party)}身份签署。\n签署链接：{url}\n"
                    f"链接有效期至{expiry.astimezone(links.CHINA):%Y年%m月%d日 %H:%M}（北京时间），仅限本人使用，请勿转发。"
                ),
                purpose="link",
                document_id=doc.id,
                party=req.party,
                link=url,
            ),
        )
    audit.record(
        session,
        doc.id,
        Event.SENT,
        actor,
        detail=f"签署链接：{req.party}，发送至{mask_recipient(req.recipient)}",
    )
    return IssuedLink(req.party, req.id, token, url, expiry, req.recipient, req.status)


def open_turn(session: Session, doc: Document, req: SigningRequest, actor: Actor) -> None:
    """The party before ``req`` has signed: it is ``req``'s turn. A party with a recipient gets a
    freshly minted link now; one without signs from its account, or the office resends the link.

    The link keeps the expiry chosen at creation; if that day has passed meanwhile, it gets
    :data:`workflow.LINK_DAYS` days from now rather than arriving dead.
    """
    assert doc.id is not None
    req.status = RequestStatus.OPEN.value
    if not req.recipient:
        log.info("document %s: %s's turn, no recipient to send the link to", doc.id, req.party)
        return
    expiry = links.as_utc(req.token_expires_at) if req.token_expires_at is not None else None
    now = datetime.now(UTC)
    if expiry is None or expiry <= now:
        expiry = links.end_of_day((now + timedelta(days=workflow.LINK_DAYS)).astimezone(links.CHINA).date())
    new_link(session, doc, req, expiry, actor)


def mask_recipient(recipient: str | None) -> str:
    if not recipient:
        return "（无联系方式，由项目办转交）"
    if "@" in recipient:
        name, _, host = recipient.partition("@")
        return f"{name[:1]}***@{host}"
    return f"{recipient[:3]}****{recipient[-4:]}" if len(recipient) >= 7 else "****"


def tell_all(
    session: Session, doc: Document, requests: list[SigningRequest], purpose: str, text: str
) -> None:
    """Tell every party that was ever sent a link (a party still waiting has heard nothing of it)."""
    assert doc.id is not None
    for r in requests:
        if r.recipient and r.token_hash is not None:
            notify.queue(
                session,
                notify.Message(r.recipient, f"{doc.number}：{text[:20]}", text, purpose, doc.id, r.party),
            )
