"""Presence in one process's memory, and moderators' proofs of life (`Proofs`, used by both presence stores).

Two different questions, two stamps (issue #12 review): "does a live process still hold this socket?" (the
holder's stamp, refreshed every round for every socket it holds: what finds sockets to disconnect, what
prunes) and "is this moderator's client alive?" (the proof stamp: what lets participants write). A lapsed
proof never deletes an entry: its socket must stay findable, or taking a right away would miss it.
The shared variant is `presence_redis.RedisPresence`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from typing import Any


def unindex(store: Any, sid: str, meeting_id: int) -> None:
    """A presence store's local index (by socket; lapsed proofs; proofs) forgets `sid` in `meeting_id`, and
    the socket altogether once it is in no meeting. The caller holds the store's lock."""
    store._by_sid.get(sid, set()).discard(meeting_id)
    store._expired.get(sid, set()).discard(meeting_id)
    if not store._by_sid.get(sid):
        store._by_sid.pop(sid, None)
        store._expired.pop(sid, None)
        store.proofs.forget(sid)


class Proofs:
    """When each moderator socket of this process last proved it is alive (issue #12).

    An open socket proves nothing: a frozen device or a lost network keeps it open until Engine.IO's ping
    timeout (about 45 s). So a moderator's presence counts only while its client answered the heartbeat's
    `alive` (chat/alive.py) within `ttl` seconds; joining is a proof too. `clock` is `time.monotonic`; tests
    may set another. Participants need no proof: their presence opens nothing.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.clock = time.monotonic
        self._at: dict[str, float] = {}

    def mark(self, sid: str) -> None:
        self._at[sid] = self.clock()

    def age(self, sid: str) -> float:
        """Seconds since the socket's last proof (infinite when it never gave one)."""
        return self.clock() - self._at.get(sid, -math.inf)

    def live(self, sid: str) -> bool:
        return self.age(sid) <= self.ttl

    def forget(self, sid: str) -> None:
        self._at.pop(sid, None)


class MemoryPresence:
    """Presence for a single process: meeting -> socket id -> membership id.

    Nothing expires but moderators' proofs of life (`Proofs`): when this process dies, its memory (the only
    presence there is) goes with it. A moderator entry without a recent proof stays here (it counts again when
    the client answers) and stays findable (`sids_of`, `holders`: its socket can still be taken out), but it
    does not count as present: not for `moderator_present`, not in `membership_ids`.
    """

    def __init__(self, ttl: float = 6.0) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, int]] = defaultdict(dict)
        self._moderators: dict[int, set[str]] = defaultdict(set)
        self._by_sid: dict[str, set[int]] = defaultdict(set)  # socket id -> its meetings (disconnect)
        self._expired: dict[str, set[int]] = defaultdict(set)  # moderator entries `prune` reported gone
        self.proofs = Proofs(ttl)

    def add(self, meeting_id: int, sid: str, membership_id: int, is_moderator: bool = False) -> None:
        with self._lock:
            self._rooms[meeting_id][sid] = membership_id
            self._by_sid[sid].add(meeting_id)
            if is_moderator:
                self._moderators[meeting_id].add(sid)
                self.proofs.mark(sid)  # the join itself proves the socket alive
                self._expired.pop(sid, None)
            else:
                self._moderators[meeting_id].discard(sid)

    def _counts(self, meeting_id: int, sid: str) -> bool:
        return sid not in self._moderators.get(meeting_id, ()) or self.proofs.live(sid)

    def moderator_present(self, meeting_id: int) -> bool:
        with self._lock:
            return any(self.proofs.live(sid) for sid in self._moderators.get(meeting_id, ()))

    def moderators_present(self, meeting_ids: list[int]) -> dict[int, bool]:
        return {meeting_id: self.moderator_present(meeting_id) for meeting_id in meeting_ids}

    def sids_of(self, meeting_id: int, membership_id: int) -> set[str]:
        """Every socket of the membership in the meeting, proven or not: a frozen one must be found too."""
        with self._lock:
            return {sid for sid, m in self._rooms.get(meeting_id, {}).items() if m == membership_id}

    def remove(self, meeting_id: int, sid: str) -> int | None:
        with self._lock:
            self._moderators.get(meeting_id, set()).discard(sid)
            membership_id = self._rooms.get(meeting_id, {}).pop(sid, None)
            if not self._rooms.get(meeting_id):
                self._rooms.pop(meeting_id, None)
                self._moderators.pop(meeting_id, None)
            unindex(self, sid, meeting_id)
            return membership_id

    def membership_ids(self, meeting_id: int) -> set[int]:
        with self._lock:
            return {m for sid, m in self._rooms.get(meeting_id, {}).items() if self._counts(meeting_id, sid)}

    def local_meetings(self) -> set[int]:
        """Meetings in which this process holds sockets."""
        with self._lock:
            return set(self._rooms)

    def meetings_of(self, sid: str) -> set[int]:
        """Meetings in which this process holds an entry of the socket, whatever its session says."""
        with self._lock:
            return set(self._by_sid.get(sid, ()))

    def moderator_sids(self) -> set[str]:
        """This process's sockets present as moderators somewhere (proven or not): they are asked `alive`."""
        with self._lock:
            return {sid for sids in self._moderators.values() for sid in sids}

    def local_entries(self) -> set[tuple[int, str]]:
        """(meeting id, socket id) of every entry this process holds."""
        with self._lock:
            return {(meeting_id, sid) for meeting_id, sids in self._rooms.items() for sid in sids}

    def entries_of(self, sid: str) -> dict[int, tuple[int, bool]]:
        """This process's entries of the socket: meeting id -> (membership id, entered as moderator)."""
        with self._lock:
            return {m: (self._rooms[m][sid], sid in self._moderators.get(m, ())) for m in self._by_sid.get(sid, ())}

    def prove(self, sid: str) -> set[int]:
        """The socket answered `alive`. Returns the meetings where it counts again (its proof had expired)."""
        with self._lock:
            meetings = {m for m in self._by_sid.get(sid, ()) if sid in self._moderators.get(m, ())}
            if not meetings:
                return set()
            was_live = self.proofs.live(sid)
            self.proofs.mark(sid)
            self._expired.pop(sid, None)
            return set() if was_live else meetings

    def live_meetings(self) -> set[int]:
        """Meetings in which any process holds sockets (here: this one)."""
        return self.local_meetings()

    def holders(self, meeting_ids: list[int]) -> dict[int, dict[str, tuple[int, bool]]]:
        """Per meeting: socket id -> (membership id, entered as moderator)."""
        with self._lock:
            return {
                m: {sid: (mid, sid in self._moderators.get(m, ())) for sid, mid in self._rooms.get(m, {}).items()}
                for m in meeting_ids
            }

    def refresh(self) -> None:
        """Nothing to keep alive in memory."""

    def prune(self) -> set[int]:
        """Meetings where a moderator's proof of life expired since the last call (they lost someone)."""
        with self._lock:
            lost = set()
            for meeting_id, sids in self._moderators.items():
                for sid in sids:
                    if not self.proofs.live(sid) and meeting_id not in self._expired[sid]:
                        self._expired[sid].add(meeting_id)
                        lost.add(meeting_id)
            return lost

    def clear(self) -> None:
        with self._lock:
            self._rooms.clear()
            self._moderators.clear()
            self._by_sid.clear()
            self._expired.clear()
