"""Chat state that several server processes must share: presence, authorization epochs, event budgets.

With `REDIS_URL` set both live in Redis, so any process sees the same state. Without it (the embedded
default, one process) they live in this process's memory, which is then the only process there is.

Presence must survive a process that dies without running its disconnect handlers (SIGKILL, OOM, a
lost host): every entry in Redis carries a last-seen time, the process that holds the socket refreshes
it every `HEARTBEAT_SECONDS` (`chat/heartbeat.py`), and readers ignore entries older than
`PRESENCE_TTL`. So a crashed process's sockets drop out of presence within `PRESENCE_TTL` seconds,
and "is a moderator here?" turns false without anyone having to notice the crash.

Two different questions, two stamps (issue #12 review): "does a live process still hold this socket?" (the
holder's stamp, refreshed every round for every socket it holds: what finds sockets to disconnect, what
prunes) and "is this moderator's client alive?" (the proof stamp: what lets participants write). A lapsed
proof never deletes an entry: its socket must stay findable, or taking a right away would miss it.
"""
from __future__ import annotations

import math
import secrets
import threading
import time
from collections import defaultdict

import redis
from flask import Flask, current_app

# Times are Redis server time in milliseconds (`TIME`), so clock skew between hosts cannot make a live
# socket look stale. Lua turns numbers into strings with 14 significant digits: exact for milliseconds.
_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: hash (socket id -> value), sorted set (socket id -> holder's last stamp), sorted set (socket id ->
# last proof of life). ARGV: key lifetime (s), then triples of socket id, value and proof age (ms, '' for
# none). Sets the value, stamps the socket as held now, and (moderators) as proven `age` ms ago.
_TOUCH = _NOW_MS + """
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], now, ARGV[i])
  if ARGV[i + 2] ~= '' then redis.call('ZADD', KEYS[3], now - tonumber(ARGV[i + 2]), ARGV[i]) end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return now
"""

# KEYS: hash, holder stamps, proofs (as for _TOUCH). ARGV: age (ms) beyond which an entry's holder is dead.
# Deletes dead entries and returns how many it deleted (so only one process reports a given crash).
_PRUNE = _NOW_MS + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[1])))
for _, sid in ipairs(dead) do
  redis.call('ZREM', KEYS[2], sid)
  redis.call('ZREM', KEYS[3], sid)
  redis.call('HDEL', KEYS[1], sid)
end
return #dead
"""

# KEYS: a sorted set (socket id -> last seen). ARGV: key lifetime (s), age (ms) beyond which an entry
# is dropped, then socket ids to stamp as seen now.
_TOUCH_SET = _NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return now
"""


# Lua, with hash_key, proof_key (as for _TOUCH) and oldest (ms) set: `present` is 1 when a moderator
# socket of the meeting proved it is alive since `oldest`. Only the holder writes proofs, so a dead process's
# moderators stop counting too. Runs on every chat message (chat/gate.py): answered inside Redis.
_FIND_MODERATOR = """
local present = 0
local raw = redis.call('HGETALL', hash_key)
for i = 1, #raw, 2 do
  if string.sub(raw[i + 1], -2) == ':m' then
    local proof = redis.call('ZSCORE', proof_key, raw[i])
    if proof and tonumber(proof) >= oldest then present = 1 break end
  end
end
"""

# KEYS: hash, proofs (`RedisPresence.moderator_keys`). ARGV: age (ms) beyond which a proof has lapsed. 1 when
# a proven moderator socket is in the meeting.
_MODERATOR_PRESENT = (_NOW_MS + "local hash_key, proof_key = KEYS[1], KEYS[2]\n"
                      "local oldest = now - tonumber(ARGV[1])\n" + _FIND_MODERATOR + "return present\n")


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _key_lifetime(ttl: float) -> int:
    """How long a key outlives its last refresh: cleans up after processes that all died."""
    return max(60, math.ceil(ttl * 6))


def _unindex(store, sid: str, meeting_id: int) -> None:
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
            _unindex(self, sid, meeting_id)
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
            return {m: {sid: (mid, sid in self._moderators.get(m, ())) for sid, mid in self._rooms.get(m, {}).items()}
                    for m in meeting_ids}

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
        self._ttl_ms = _ms(ttl)
        self._lifetime = _key_lifetime(ttl)
        self._touch = client.register_script(_TOUCH)
        self._touch_set = client.register_script(_TOUCH_SET)
        self._prune = client.register_script(_PRUNE)
        self._moderator_present = client.register_script(_MODERATOR_PRESENT)
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
        return [f"{self._prefix}:presence:{meeting_id}", f"{self._prefix}:presence-seen:{meeting_id}",
                f"{self._prefix}:presence-proof:{meeting_id}"]

    _keys = keys_of

    def moderator_keys(self, meeting_id: int) -> list[str]:
        """The keys `_FIND_MODERATOR` reads: the hash and the proofs (chat/gate.py passes them too)."""
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
            self._touch(keys=self._keys(meeting_id), args=[self._lifetime, sid, value, 0 if is_moderator else ""],
                        client=pipe)
            self._stamp_index([meeting_id], pipe)
            pipe.execute()

    def _stamp_index(self, meeting_ids, pipe) -> None:
        self._touch_set(keys=[self._index], args=[self._lifetime, _ms(self._lifetime), *meeting_ids], client=pipe)

    def remove(self, meeting_id: int, sid: str) -> int | None:
        hash_key, seen_key, proof_key = self._keys(meeting_id)
        with self._lock:
            self._local.pop((meeting_id, sid), None)
            _unindex(self, sid, meeting_id)
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
        return {m: present == 1 for m, present in zip(meeting_ids, pipe.execute())}

    def sids_of(self, meeting_id: int, membership_id: int) -> set[str]:
        """Every live-held socket of the membership in the meeting, proven or not: a frozen one too."""
        return {sid for sid, (m, _mod, _counts) in self._entries(meeting_id).items() if m == membership_id}

    def live_meetings(self) -> set[int]:
        """Meetings in which some process has stamped sockets within the key lifetime (a minute or more)."""
        return {int(m) for m in self._redis.zrange(self._index, 0, -1)}

    def holders(self, meeting_ids: list[int]) -> dict[int, dict[str, tuple[int, bool]]]:
        """Per meeting: socket id -> (membership id, entered as moderator), stale entries included: taking a
        right away disconnects a dead socket harmlessly, but must not miss a live one."""
        pipe = self._redis.pipeline(transaction=False)
        for meeting_id in meeting_ids:
            pipe.hgetall(self._keys(meeting_id)[0])
        return {m: {sid: (int(v.split(":")[0]), v.endswith(":m")) for sid, v in raw.items()}
                for m, raw in zip(meeting_ids, pipe.execute())}

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
            return {m: (int(self._local[(m, sid)].split(":")[0]), self._local[(m, sid)].endswith(":m"))
                    for m in self._by_sid.get(sid, ())}

    def prove(self, sid: str) -> set[int]:
        """The socket answered `alive`: stamp its moderator entries as proven now.

        Returns the meetings where it counts again (its proof had run out)."""
        with self._lock:
            entries = {m: self._local[(m, sid)] for m in self._by_sid.get(sid, ())
                       if self._local[(m, sid)].endswith(":m")}
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
                age = ""
                if value.endswith(":m") and self.proofs.live(sid):
                    age = _ms(max(0.0, self.proofs.age(sid)))
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
            expired = [(m, sid) for (m, sid), value in self._local.items()
                       if value.endswith(":m") and not self.proofs.live(sid) and m not in self._expired[sid]]
            pipe = self._redis.pipeline(transaction=False)
            for meeting_id, sid in expired:  # this process's clock says the proof ran out: so Redis says it too
                self._expired[sid].add(meeting_id)
                pipe.zrem(self._keys(meeting_id)[2], sid)
            for meeting_id in meetings:
                self._prune(keys=self._keys(meeting_id), args=[self._ttl_ms], client=pipe)
            results = pipe.execute()[len(expired):]
        return {m for m, _sid in expired} | {m for m, dropped in zip(meetings, results) if dropped}

    def clear(self) -> None:
        with self._lock:
            self._local.clear()
            self._by_sid.clear()
            self._expired.clear()
            self._redis.delete(self._index)
            for pattern in ("presence:*", "presence-seen:*", "presence-proof:*"):
                for key in self._redis.scan_iter(f"{self._prefix}:{pattern}"):
                    self._redis.delete(key)


class MemoryConnections:
    """Which socket ids belong to which user, in a single process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids: dict[int, set[str]] = defaultdict(set)

    def add(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._sids[user_id].add(sid)

    def remove(self, user_id: int, sid: str) -> None:
        with self._lock:
            sids = self._sids.get(user_id)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._sids[user_id]

    def sids(self, user_id: int) -> set[str]:
        with self._lock:
            return set(self._sids.get(user_id, ()))

    def refresh(self) -> None:
        """Nothing to keep alive in memory."""


class RedisConnections:
    """Which socket ids belong to which user, shared by every process.

    A sorted set per user (`user-sockets:<user>`: socket id -> last seen, Redis time in ms). The
    holding process refreshes its sockets with the heartbeat; entries of a crashed process are pruned
    once older than the key lifetime (`6 * ttl`, at least a minute) whenever another socket of the user
    is stamped, or vanish with the key. `sids()` still
    returns entries past `ttl` but not yet pruned: disconnecting a dead socket is harmless, missing a
    live one after a ban is not.
    """

    def __init__(self, client: redis.Redis, prefix: str, ttl: float) -> None:
        self._redis = client
        self._prefix = prefix
        self._lifetime = _key_lifetime(ttl)
        self._touch = client.register_script(_TOUCH_SET)
        self._local: set[tuple[int, str]] = set()
        self._lock = threading.RLock()

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:user-sockets:{user_id}"

    def add(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._local.add((user_id, sid))
            self._touch(keys=[self._key(user_id)], args=[self._lifetime, _ms(self._lifetime), sid])

    def remove(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._local.discard((user_id, sid))
            self._redis.zrem(self._key(user_id), sid)

    def sids(self, user_id: int) -> set[str]:
        return set(self._redis.zrange(self._key(user_id), 0, -1))

    def refresh(self) -> None:
        """Stamp this process's sockets as seen now and drop its users' entries that went stale."""
        with self._lock:
            by_user: dict[int, list[str]] = defaultdict(list)
            for user_id, sid in self._local:
                by_user[user_id].append(sid)
            pipe = self._redis.pipeline(transaction=False)
            for user_id, sids in by_user.items():
                self._touch(keys=[self._key(user_id)], args=[self._lifetime, _ms(self._lifetime), *sids],
                            client=pipe)
            pipe.execute()


class MemoryEpochs:
    """Version tokens of authorization scopes (see `chat/rights.py`), in this process's memory."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def read(self, keys: list[str]) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._tokens.setdefault(k, secrets.token_hex(8)) for k in keys)

    def bump(self, keys: set[str]) -> None:
        with self._lock:
            for key in keys:
                self._tokens[key] = secrets.token_hex(8)


class RedisEpochs:
    """Version tokens of authorization scopes, shared by every process through Redis.

    Tokens are random, not counters: after a Redis restart (it keeps nothing on disk) a counter could climb
    back to a value a stale cache holds; a fresh random token never matches. A reader creates a missing
    token itself, so a cache never holds "no token". Keys expire after a week of no change; a reader then
    draws a new token and every cache of that scope reloads, which is safe.
    """

    LIFETIME = 7 * 24 * 3600

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:epoch:"

    def names(self, keys: list[str]) -> list[str]:
        return [self._prefix + k for k in keys]

    def read(self, keys: list[str]) -> tuple[str, ...]:
        names = self.names(keys)
        tokens = self._redis.mget(names)
        if None in tokens:  # rare: a new scope, or Redis lost its data
            pipe = self._redis.pipeline(transaction=False)
            for name in names:
                pipe.set(name, secrets.token_hex(8), nx=True, ex=self.LIFETIME)
            pipe.mget(names)
            tokens = pipe.execute()[-1]
        return tuple(tokens)

    def bump(self, keys: set[str]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._prefix + key, secrets.token_hex(8), ex=self.LIFETIME)
        pipe.execute()


class ChatStores:
    def __init__(self, presence, connections, redis_client: redis.Redis | None, epochs: MemoryEpochs | RedisEpochs,
                 gate) -> None:
        self.presence = presence
        self.connections = connections
        self.redis = redis_client
        self.epochs = epochs
        self.gate = gate  # the socket event budget, and the send path's one round trip (chat/gate.py)


def init_stores(app: Flask) -> None:
    from .gate import MemoryGate, RedisGate

    limit = app.config["SOCKET_EVENT_RATE_LIMIT"]
    prefix = app.config["REDIS_PREFIX"]
    url = app.config.get("REDIS_URL")
    if url:
        timeout = float(app.config["REDIS_SOCKET_TIMEOUT"])
        client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                      socket_timeout=timeout, socket_connect_timeout=min(timeout, 1.0))
        ttl = float(app.config["PRESENCE_TTL"])
        presence, connections = RedisPresence(client, prefix, ttl), RedisConnections(client, prefix, ttl)
        epochs: MemoryEpochs | RedisEpochs = RedisEpochs(client, prefix)
        gate: MemoryGate | RedisGate = RedisGate(client, prefix, limit, epochs, presence)
    else:
        client = None
        presence = MemoryPresence(float(app.config["PRESENCE_TTL"]))
        connections, epochs = MemoryConnections(), MemoryEpochs()
        gate = MemoryGate(limit, epochs, presence)
    app.extensions["chat_stores"] = ChatStores(presence, connections, client, epochs, gate)


def stores() -> ChatStores:
    return current_app.extensions["chat_stores"]
