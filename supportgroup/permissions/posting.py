"""Posting rights: everything that may stop a member's chat message right now.

`posting_facts` reads them from the database as plain values; `check_can_post` applies the rules, to facts
read just now or kept by a socket between messages (`chat/rights.py`): the same function for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Meeting, MeetingState, Membership, Message, MessageKind, utcnow
from .core import Denied
from .live import active_mute, is_removed_from, is_waiting, removed_refusal


@dataclass(frozen=True)
class PostingFacts:
    """Everything `check_can_post` needs to know about one member in one meeting, read from the database.

    Plain values, so a socket can keep them between messages (`chat/rights.py` caches them and drops the
    copy as soon as anything they were read from changes)."""

    meeting_id: int
    group_id: int
    membership_id: int
    is_moderator: bool
    meeting_open: bool
    removed: bool
    waiting: bool
    muted: bool
    mute_until: datetime | None
    mute_reason: str | None
    floor_only: bool
    has_floor: bool
    slow_mode_seconds: int
    premoderated: bool
    hold_identifying: bool


def posting_facts(meeting: Meeting, membership: Membership) -> PostingFacts:
    moderator = membership.is_moderator
    mute = None if moderator else active_mute(meeting, membership)
    return PostingFacts(
        meeting_id=meeting.id,
        group_id=meeting.group_id,
        membership_id=membership.id,
        is_moderator=moderator,
        meeting_open=meeting.state == MeetingState.OPEN,
        removed=is_removed_from(meeting, membership),
        waiting=is_waiting(meeting, membership),
        muted=mute is not None,
        mute_until=mute.until if mute else None,
        mute_reason=mute.reason if mute else None,
        floor_only=meeting.floor_only,
        has_floor=meeting.floor_membership_id == membership.id,
        slow_mode_seconds=meeting.slow_mode_seconds or 0,
        premoderated=meeting.premoderated,
        hold_identifying=meeting.group.hold_identifying,
    )


def last_chat_at(meeting_id: int, membership_id: int) -> datetime | None:
    """When this member last wrote a chat message in this meeting (slow mode)."""
    return db.session.scalar(
        select(func.max(Message.created_at)).where(
            Message.meeting_id == meeting_id,
            Message.author_membership_id == membership_id,
            Message.kind == MessageKind.CHAT,
        )
    )


def check_can_post(facts: PostingFacts, moderator_present: bool, last_post_at: Callable[[], datetime | None]) -> None:
    """Everything that may stop a chat message right now. Moderators are only stopped by a closed meeting.

    `last_post_at` is asked only when slow mode is on (it costs a query)."""
    if not facts.meeting_open:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    if facts.is_moderator:
        return
    if facts.removed:
        raise removed_refusal()
    if facts.waiting:
        raise Denied("waiting", _l("Please wait until the peer expert lets you in."))
    if not moderator_present:
        raise Denied("no_moderator", _l("No peer expert is connected right now, so the chat is read-only."))
    now = utcnow()
    if facts.muted and (facts.mute_until is None or facts.mute_until > now):
        raise Denied(
            "muted",
            _l("A peer expert has muted you for now."),
            until=facts.mute_until.isoformat() if facts.mute_until else None,
        )
    if facts.floor_only and not facts.has_floor:
        raise Denied("floor_only", _l("Only the person who has the floor can write now."))
    if facts.slow_mode_seconds and (last := last_post_at()) is not None:
        wait = facts.slow_mode_seconds - (now - last).total_seconds()
        if wait > 0:
            raise Denied(
                "slow_mode",
                _l("Slow mode is on: please wait a moment before your next message."),
                retry_after=int(wait) + 1,
            )
