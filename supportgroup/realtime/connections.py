"""Which socket ids belong to which user (`disconnect_user`, the user room), in memory or in Redis."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import cast

import redis

from .redis_scripts import TOUCH_SET, key_lifetime, ms


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
        self._lifetime = key_lifetime(ttl)
        self._touch = client.register_script(TOUCH_SET)
        self._local: set[tuple[int, str]] = set()
        self._lock = threading.RLock()

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:user-sockets:{user_id}"

    def add(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._local.add((user_id, sid))
            self._touch(keys=[self._key(user_id)], args=[self._lifetime, ms(self._lifetime), sid])

    def remove(self, user_id: int, sid: str) -> None:
        with self._lock:
            self._local.discard((user_id, sid))
            self._redis.zrem(self._key(user_id), sid)

    def sids(self, user_id: int) -> set[str]:
        return set(cast(list[str], self._redis.zrange(self._key(user_id), 0, -1)))

    def refresh(self) -> None:
        """Stamp this process's sockets as seen now and drop its users' entries that went stale."""
        with self._lock:
            by_user: dict[int, list[str]] = defaultdict(list)
            for user_id, sid in self._local:
                by_user[user_id].append(sid)
            pipe = self._redis.pipeline(transaction=False)
            for user_id, sids in by_user.items():
                self._touch(keys=[self._key(user_id)], args=[self._lifetime, ms(self._lifetime), *sids], client=pipe)
            pipe.execute()
