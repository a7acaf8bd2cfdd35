"""The scopes of the authorization rules, and how a bulk statement says which scopes it touches.

A socket keeps its posting rights (`chat/rights.py`) only while the epochs of four scopes are unchanged: its
meeting, its group, its account, and GLOBAL. A transaction that writes a row the rules read replaces the epochs
of that row's scopes (the ORM tells which rows it wrote). A bulk UPDATE or DELETE does not: the ORM cannot see
which rows it changed. Unless the statement says its scopes it replaces GLOBAL, which makes every socket of
every meeting in every process read its rights again. So a bulk statement on a rules table says them:

    db.session.execute(update(Mute).where(Mute.meeting_id == meeting.id, ...),
                       execution_options=rule_scopes.touching(meetings=[meeting.id]))

The scopes must cover every row the statement can change (its WHERE clause bounds them). A statement that
can change no row (`touching()` with nothing) replaces nothing.

This module sits below the features (like `permissions.py`), so moderation and safety can name scopes without
importing the chat.
"""

from __future__ import annotations

from collections.abc import Iterable

GLOBAL = "all"
OPTION = "sg_rule_scopes"  # execution option: the scopes a bulk statement touches (a frozenset of names)


def meeting_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def group_scope(group_id: int) -> str:
    return f"group:{group_id}"


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def touching(
    *, meetings: Iterable[int] = (), groups: Iterable[int] = (), users: Iterable[int] = ()
) -> dict[str, frozenset[str]]:
    """Execution options for a bulk UPDATE/DELETE on a rules table: it changes rows of these scopes only."""
    return {OPTION: frozenset([*map(meeting_scope, meetings), *map(group_scope, groups), *map(user_scope, users)])}
