"""What a socket's account may post in a meeting: read from the database, or the answer the socket keeps
(`chat/rights.py`) while none of the scopes it was read from has changed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Meeting, Membership, User
from ..permissions import Denied, posting_facts, require_authenticated, require_meeting_member
from ..realtime.describe import person
from ..realtime.loaders import load_meeting
from ..realtime.pipeline import OverBudget
from ..realtime.stores import stores
from . import rights


def load_posting_rights(meeting_id: int, user_id: int) -> tuple[rights.Entry, User, Meeting, Membership]:
    """The account, the meeting, the membership and what it may post, read from the database now.

    The scopes' epochs are read before anything else (the meeting's group id never changes), so a change
    committed after that read invalidates the answer wherever it is kept."""
    group_id = db.session.scalar(select(Meeting.group_id).where(Meeting.id == meeting_id))
    if group_id is None:
        raise Denied("meeting_not_found", _l("This meeting does not exist."), status=404)
    epochs = rights.read_epochs(meeting_id, group_id, user_id)
    user = require_authenticated(current_user)  # the account and its session token, read now
    if user.id != user_id:
        raise Denied("not_authenticated", _l("Please log in first."), status=401)
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    entry = rights.Entry(epochs, user_id, posting_facts(meeting, membership), person(membership))
    return entry, user, meeting, membership


def posting_rights(meeting_id: int, user_id: int) -> tuple[rights.Entry, bool]:
    """What this socket's account may post in the meeting, and whether a peer expert is present.

    One Redis round trip counts the event against the account's budget and reads the epochs of the answer
    this socket keeps (since `join` or its last message) and, for a participant, moderator presence. The
    kept answer is used while no scope it was read from has changed; else it is read from the database now.
    """
    kept = rights.kept(meeting_id)
    ask_presence = kept is None or not kept.facts.is_moderator  # without a kept answer: maybe a participant
    answer = stores().gate.check(user_id, rights.scopes_of(kept) if kept else [], meeting_id if ask_presence else None)
    if not answer.allowed:
        raise OverBudget()
    if kept is not None and answer.epochs == kept.epochs:
        entry = kept
    else:
        entry = load_posting_rights(meeting_id, user_id)[0]
        rights.remember(meeting_id, entry)
    present = answer.moderator_present
    if present is None:  # not asked: a kept moderator's answer, or one that is a moderator's now
        present = entry.facts.is_moderator or stores().presence.moderator_present(meeting_id)
    return entry, present
