"""Presence shared by every process through Redis, with entries that expire when their process dies.

Presence must survive a process that dies without running its disconnect handlers (SIGKILL, OOM, a
lost host): every entry in Redis carries a last-seen time, the process that holds the socket refreshes
it every `HEARTBEAT_SECONDS` (`chat/heartbeat.py`), and readers ignore entries older than
`PRESENCE_TTL`. So a crashed process's sockets drop out of presence within `PRESENCE_TTL` seconds,
and "is a moderator here?" turns false without anyone having to notice the crash.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import cast

import redis

from .presence import Proofs, unindex
from .redis_scripts import MODERATOR_PRESENT, PRUNE, TOUCH, TOUCH_SET, key_lifetime, ms


class RedisPresence:
    """Presence shared by every process, with entries that expire when their process dies.

    Per meeting: a hash `presence:<meeting>` (socket id -> "<membership id>:m|p"), a sorted set
    `presence-seen:<meeting>` (socket id -> the holder's last stamp, Redis time in ms) and a sorted set
    `presence-proof:<meeting>` (moderator socket id -> its client's last proof of life). An entry lives while
    its holder stamped it within `ttl` seconds. This process keeps its own sockets in `_local` and `refresh()`
    stamps them all (the heartbeat calls it); `prune()` deletes entries nobody has stamped for `ttl`.

    Remove a socket only in the process that holds it (disconnect it through Socket.IO otherwise):
    the holder's next refresh would otherwise write it back.

    A moderator counts as present (`moderator_present`, the send gate, `membership_ids`) only while its proof
    (`Proofs`: the join, then each answer to `alive`) is younger than `ttl`: a frozen moderator stops counting
    within `ttl` of its last answer, however long its socket stays open. Its entry stays (stamped by the holder
    like any other), so `holders`, `sids_of` and `live_meetings` still find the socket to take it out.
    """

    def __init__(self, client: redis.Redis, prefix: str, ttl: float) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_ms = ms(ttl)
        self._lifetime = key_lifetime(ttl)
        self._touch = client.register_script(TOUCH)
        self._touch_set = client.register_script(TOUCH_SET)
        self._prune = client.register_script(PRUNE)
        self._moderator_present = client.register_script(MODERATOR_PRESENT)
        # Every meeting in which some process holds sockets (meeting id -> last stamp), so that taking a right
        # away can find the sockets it carried without scanning keys (`live_meetings`, chat/rooms.py).
        self._index = f"{prefix}:presence-meetings"
        # (meeting id, socket id) -> stored value, for the sockets this process holds. Writes to Redis
        # happen under this lock too, so a refresh never writes back a socket removed meanwhile.
        self._local: dict[tuple[int, str], str] = {}
        self._by_sid: dict[str, set[int]] = defaultdict(set)  # socket id -> its meetings here (disconnect)
        self._expired: dict[str, set[int]] = defaultdict(set)  # moderator entries whose proof ran out
        self.proofs = Proofs(ttl)
        self._lock = threading.RLock()

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    def keys_of(self, meeting_id: int) -> list[str]:
        """The meeting's hash (socket id -> value), holder stamps and proofs (socket id -> Redis time, ms)."""
        return [
            f"{self._prefix}:presence:{meeting_id}",
            f"{self._prefix}:presence-seen:{meeting_id}",
            f"{self._prefix}:presence-proof:{meeting_id}",
        ]

    _keys = keys_of

    def moderator_keys(self, meeting_id: int) -> list[str]:
        """The keys `FIND_MODERATOR` reads: the hash and the proofs (realtime/gate.py passes them too)."""
        hash_key, _seen_key, proof_key = self._keys(meeting_id)
        return [hash_key, proof_key]

    def add(self, meeting_id: int, sid: str, membership_id: int, is_moderator: bool = False) -> None:
        value = f"{membership_id}:{'m' if is_moderator else 'p'}"
        with self._lock:
            self._local[(meeting_id, sid)] = value
            self._by_sid[sid].add(meeting_id)
            if is_moderator:
                self.proofs.mark(sid)  # the join itself proves the socket alive
                self._expired.pop(sid, None)
            pipe = self._redis.pipeline(transaction=False)  # one round trip: the entry and the meeting's index
            self._touch(
                keys=self._keys(meeting_id), args=[self._lifetime, sid, value, 0 if is_moderator else ""], client=pipe
            )
            self._stamp_index([meeting_id], pipe)
            pipe.execute()

    def _stamp_index(self, meeting_ids, pipe) -> None:
        self._touch_set(keys=[self._index], args=[self._lifetime, ms(self._lifetime), *meeting_ids], client=pipe)

    def remove(self, meeting_id: int, sid: str) -> int | None:
        hash_key, seen_key, proof_key = self._keys(meeting_id)
        with self._lock:
            self._local.pop((meeting_id, sid), None)
            unindex(self, sid, meeting_id)
            pipe = self._redis.pipeline()
            pipe.hget(hash_key, sid)
            pipe.hdel(hash_key, sid)
            pipe.zrem(seen_key, sid)
            pipe.zrem(proof_key, sid)
            value, _, _, _ = pipe.execute()
        return int(value.split(":")[0]) if value is not None else None

    def _entries(self, meeting_id: int) -> dict[str, tuple[int, bool, bool]]:
        """The entries whose holder lives: socket id -> (membership id, is moderator, counts as present)."""
        hash_key, seen_key, proof_key = self._keys(meeting_id)
        pipe = self._redis.pipeline()  # MULTI/EXEC: one consistent snapshot
        pipe.time()
        pipe.zrange(seen_key, 0, -1, withscores=True)
        pipe.zrange(proof_key, 0, -1, withscores=True)
        pipe.hgetall(hash_key)
        (seconds, micros), seen, proofs, raw = pipe.execute()
        oldest = seconds * 1000 + micros // 1000 - self._ttl_ms
        live = {sid for sid, score in seen if score >= oldest}
        proven = {sid for sid, score in proofs if score >= oldest}
        entries = {}
        for sid, value in raw.items():
            if sid in live:
                moderator = value.endswith(":m")
                entries[sid] = (int(value.split(":")[0]), moderator, not moderator or sid in proven)
        return entries

    def membership_ids(self, meeting_id: int) -> set[int]:
        """Who is present: participants whose holder lives, moderators who proved it lately."""
        return {m for m, _mod, counts in self._entries(meeting_id).values() if counts}

    def moderator_present(self, meeting_id: int) -> bool:
        return self._moderator_present(keys=self.moderator_keys(meeting_id), args=[self._ttl_ms]) == 1

    def moderators_present(self, meeting_ids: list[int]) -> dict[int, bool]:
        """`moderator_present` for several meetings in one round trip (the heartbeat asks for all of its own)."""
        pipe = self._redis.pipeline(transaction=False)
        for meeting_id in meeting_ids:
            self._moderator_present(keys=self.moderator_keys(meeting_id), args=[self._ttl_ms], client=pipe)
        return {m: present == 1 for m, present in zip(meeting_ids, pipe.execute(), strict=True)}

    def sids_of(self, meeting_id: int, membership_id: int) -> set[str]:
        """Every live-held socket of the membership in the meeting, proven or not: a frozen one too."""
        return {sid for sid, (m, _mod, _counts) in self._entries(meeting_id).items() if m == membership_id}

    def live_meetings(self) -> set[int]:
        """Meetings in which some process has stamped sockets within the key lifetime (a minute or more)."""
        return {int(m) for m in cast(list[str], self._redis.zrange(self._index, 0, -1))}

    def holders(self, meeting_ids: list[int]) -> dict[int, dict[str, tuple[int, bool]]]:
        """Per meeting: socket id -> (membership id, entered as moderator), stale entries included: taking a
        right away disconnects a dead socket harmlessly, but must not miss a live one."""
        pipe = self._redis.pipeline(transaction=False)
        for meeting_id in meeting_ids:
            pipe.hgetall(self._keys(meeting_id)[0])
        return {
            m: {sid: (int(v.split(":")[0]), v.endswith(":m")) for sid, v in raw.items()}
            for m, raw in zip(meeting_ids, pipe.execute(), strict=True)
        }

    def local_meetings(self) -> set[int]:
        """Meetings in which this process holds sockets."""
        with self._lock:
            return {meeting_id for meeting_id, _sid in self._local}

    def meetings_of(self, sid: str) -> set[int]:
        """Meetings in which this process holds an entry of the socket, whatever its session says."""
        with self._lock:
            return set(self._by_sid.get(sid, ()))

    def moderator_sids(self) -> set[str]:
        """This process's sockets present as moderators somewhere (proven or not): they are asked `alive`."""
        with self._lock:
            return {sid for (_m, sid), value in self._local.items() if value.endswith(":m")}

    def local_entries(self) -> set[tuple[int, str]]:
        """(meeting id, socket id) of every entry this process holds."""
        with self._lock:
            return set(self._local)

    def entries_of(self, sid: str) -> dict[int, tuple[int, bool]]:
        """This process's entries of the socket: meeting id -> (membership id, entered as moderator)."""
        with self._lock:
            return {
                m: (int(self._local[(m, sid)].split(":")[0]), self._local[(m, sid)].endswith(":m"))
                for m in self._by_sid.get(sid, ())
            }

    def prove(self, sid: str) -> set[int]:
        """The socket answered `alive`: stamp its moderator entries as proven now.

        Returns the meetings where it counts again (its proof had run out)."""
        with self._lock:
            entries = {
                m: self._local[(m, sid)] for m in self._by_sid.get(sid, ()) if self._local[(m, sid)].endswith(":m")
            }
            if not entries:
                return set()
            was_live = self.proofs.live(sid)
            self.proofs.mark(sid)
            self._expired.pop(sid, None)
            pipe = self._redis.pipeline(transaction=False)
            for meeting_id, value in entries.items():
                self._touch(keys=self._keys(meeting_id), args=[self._lifetime, sid, value, 0], client=pipe)
            self._stamp_index(sorted(entries), pipe)
            pipe.execute()
            return set() if was_live else set(entries)

    def refresh(self) -> None:
        """Stamp every socket this process holds as held now (and write back any pruned meanwhile), whether
        or not it proved anything; and write moderators' proofs as given at their last proof of life (so a
        Redis that restarted empty gets them back), proofs that ran out not at all."""
        with self._lock:
            by_meeting: dict[int, list] = defaultdict(list)
            for (meeting_id, sid), value in self._local.items():
                age: int | str = ""  # '': no live proof to write
                if value.endswith(":m") and self.proofs.live(sid):
                    age = ms(max(0.0, self.proofs.age(sid)))
                by_meeting[meeting_id] += [sid, value, age]
            pipe = self._redis.pipeline(transaction=False)
            for meeting_id, triples in by_meeting.items():
                self._touch(keys=self._keys(meeting_id), args=[self._lifetime, *triples], client=pipe)
            if by_meeting:
                self._stamp_index(sorted(by_meeting), pipe)
            pipe.execute()

    def prune(self) -> set[int]:
        """Delete dead entries in the meetings this process serves; return the meetings that lost some.

        Meetings this process has no socket in are left to the processes that do, and to key expiry.
        A meeting where one of this process's moderators' proof of life ran out since the last call lost
        someone too (it is reported once): its proof is deleted, but its entry stays (a lapsed proof must not
        hide the socket from `holders`).
        """
        with self._lock:
            meetings = sorted({meeting_id for meeting_id, _sid in self._local})
            expired = [
                (m, sid)
                for (m, sid), value in self._local.items()
                if value.endswith(":m") and not self.proofs.live(sid) and m not in self._expired[sid]
            ]
            pipe = self._redis.pipeline(transaction=False)
            for meeting_id, sid in expired:  # this process's clock says the proof ran out: so Redis says it too
                self._expired[sid].add(meeting_id)
                pipe.zrem(self._keys(meeting_id)[2], sid)
            for meeting_id in meetings:
                self._prune(keys=self._keys(meeting_id), args=[self._ttl_ms], client=pipe)
            results = pipe.execute()[len(expired) :]
        return {m for m, _sid in expired} | {m for m, dropped in zip(meetings, results, strict=True) if dropped}

    def clear(self) -> None:
        with self._lock:
            self._local.clear()
            self._by_sid.clear()
            self._expired.clear()
            self._redis.delete(self._index)
            for pattern in ("presence:*", "presence-seen:*", "presence-proof:*"):
                for key in self._redis.scan_iter(f"{self._prefix}:{pattern}"):
                    self._redis.delete(key)
