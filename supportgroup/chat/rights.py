"""What a socket may post, kept between messages and dropped the moment anything it was read from changes.

Checking every rule from the database on every chat message costs about ten queries (the account and its
session token, the membership, the meeting, removals, mutes, the group...). A socket instead keeps the
answer (`PostingFacts` plus how its author appears) and the *epochs* of the three scopes the answer was
read from: the meeting, the group and the account. Epochs are random tokens in the shared stores (Redis in
a scale-out deployment, so every process sees them). Whenever a transaction changes a row that the rules
read (an account, a peer-expert profile, a group, a membership, a meeting, a mute, a removal, an
admission), the epochs of its scopes are replaced, once before the commit and once after it:

- after: a socket that reloaded between the first bump and the commit (reading the old rows) is
  invalidated again;
- before: a process that dies between its commit and the second bump has invalidated the caches already.

A cached answer is used only while all three tokens are unchanged, so a mute, a ban, a closed meeting, a
logout or a disabled account takes effect from the next message on, in every process. The database stays
the only source of truth; the cache holds nothing it cannot rebuild.

Bulk UPDATE/DELETE statements on those tables (which the ORM does not track) replace the epochs of the scopes
they say they touch (`rule_scopes.touching`: a mute's lifting touches its meeting only), and a global epoch
that every answer also depends on when they say nothing. So a mute in one meeting leaves the sockets of every
other meeting their kept answers. The message counter's UPDATE (`realtime/messages.insert_message`) is text,
not a Core statement: it changes no rule and bumps nothing.
"""

from __future__ import annotations

import dataclasses
import logging

from flask import has_app_context, session
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from ..models import Admission, Group, Meeting, MeetingRemoval, Membership, Mute, PeerExpertProfile, User
from ..permissions import PostingFacts
from ..realtime.stores import stores
from ..rule_scopes import GLOBAL, OPTION, group_scope, meeting_scope, user_scope

log = logging.getLogger("supportgroup.chat")

CACHE_KEY = "sg_posting_rights"  # socket-session key: meeting id -> (epochs, facts, person)
_PENDING = "sg_rule_scopes"  # session.info key: scopes touched by the current transaction
_WATCHED_TABLES = {
    m.__tablename__ for m in (User, PeerExpertProfile, Group, Membership, Meeting, Mute, MeetingRemoval, Admission)
}


def scopes(meeting_id: int, group_id: int, user_id: int) -> list[str]:
    return [GLOBAL, meeting_scope(meeting_id), group_scope(group_id), user_scope(user_id)]


def _scopes_of(obj: object) -> set[str]:
    match obj:
        case User():
            return {user_scope(obj.id)}
        case PeerExpertProfile():
            return {user_scope(obj.user_id)}
        case Group():
            return {group_scope(obj.id)}
        case Membership():
            return {group_scope(obj.group_id), user_scope(obj.user_id)}
        case Meeting():
            return {meeting_scope(obj.id)}
        case Mute() | MeetingRemoval() | Admission():
            return {meeting_scope(obj.meeting_id)}
    return set()


# --- the cache ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entry:
    epochs: tuple
    user_id: int
    facts: PostingFacts
    person: dict  # how the author appears in message payloads (alias or first name, never the account)


def kept(meeting_id: int) -> Entry | None:
    """The answer this socket keeps for the meeting, if any; valid only while `scopes_of(entry)` still
    have the epochs it holds (the caller compares: `realtime/gate.py` reads them with the event's count)."""
    return session.get(CACHE_KEY, {}).get(meeting_id)


def scopes_of(entry: Entry) -> list[str]:
    return scopes(entry.facts.meeting_id, entry.facts.group_id, entry.user_id)


def read_epochs(meeting_id: int, group_id: int, user_id: int) -> tuple:
    """Read these BEFORE loading the facts: a change committed after the read then invalidates the answer."""
    return stores().epochs.read(scopes(meeting_id, group_id, user_id))


def remember(meeting_id: int, entry: Entry) -> None:
    session[CACHE_KEY] = {**session.get(CACHE_KEY, {}), meeting_id: entry}


def forget(meeting_id: int) -> None:
    session[CACHE_KEY] = {k: v for k, v in session.get(CACHE_KEY, {}).items() if k != meeting_id}


# --- invalidation -------------------------------------------------------------------------------------


def _touched(session_: Session) -> set[str]:
    return session_.info.setdefault(_PENDING, set())


def _collect(session_: Session, _flush_context=None) -> None:
    touched = _touched(session_)
    for obj in (*session_.new, *session_.dirty, *session_.deleted):
        touched |= _scopes_of(obj)


def _collect_bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE/DELETE on a rules table: the scopes it says it touches, else every scope (GLOBAL)."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and table.name in _WATCHED_TABLES:
        _touched(state.session).update(state.execution_options.get(OPTION, {GLOBAL}))


def _bump_before_commit(session_: Session) -> None:
    _collect(session_)  # what the commit's own flush is about to write
    if session_.info.get(_PENDING) and has_app_context():
        stores().epochs.bump(session_.info[_PENDING])  # unreachable stores fail the commit: fail closed


def _bump_after_commit(session_: Session) -> None:
    touched = session_.info.pop(_PENDING, None)
    if touched and has_app_context():
        try:
            stores().epochs.bump(touched)
        except Exception:  # committed already; the bump before the commit has invalidated the caches
            log.exception("could not bump authorization epochs after commit")


def _discard(session_: Session, previous_transaction) -> None:
    if not previous_transaction.nested:  # the whole transaction is gone, and with it its changes
        session_.info.pop(_PENDING, None)


_installed = False


def install() -> None:
    """Listen on every ORM session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "do_orm_execute", _collect_bulk)
    event.listen(Session, "before_commit", _bump_before_commit)
    event.listen(Session, "after_commit", _bump_after_commit)
    event.listen(Session, "after_soft_rollback", _discard)
    _installed = True
