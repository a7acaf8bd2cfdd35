"""Chat state that several server processes must share: presence and event rate limits.

With `REDIS_URL` set both live in Redis, so any process sees the same state. Without it (the embedded
default, one process) they live in this process's memory, which is then the only process there is.
"""
from __future__ import annotations

import threading
from collections import defaultdict

import redis
from flask import Flask, current_app
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter


class MemoryPresence:
    """Presence for a single process: meeting -> socket id -> membership id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, int]] = defaultdict(dict)
        self._moderators: dict[int, set[str]] = defaultdict(set)

    def add(self, meeting_id: int, sid: str, membership_id: int, is_moderator: bool = False) -> None:
        with self._lock:
            self._rooms[meeting_id][sid] = membership_id
            if is_moderator:
                self._moderators[meeting_id].add(sid)
            else:
                self._moderators[meeting_id].discard(sid)

    def moderator_present(self, meeting_id: int) -> bool:
        with self._lock:
            return bool(self._moderators.get(meeting_id))

    def sids_of(self, meeting_id: int, membership_id: int) -> set[str]:
        with self._lock:
            return {sid for sid, m in self._rooms.get(meeting_id, {}).items() if m == membership_id}

    def remove(self, meeting_id: int, sid: str) -> int | None:
        with self._lock:
            self._moderators.get(meeting_id, set()).discard(sid)
            return self._rooms.get(meeting_id, {}).pop(sid, None)

    def membership_ids(self, meeting_id: int) -> set[int]:
        with self._lock:
            return set(self._rooms.get(meeting_id, {}).values())

    def clear(self) -> None:
        with self._lock:
            self._rooms.clear()
            self._moderators.clear()


class RedisPresence:
    """Presence in a Redis hash per meeting: field = socket id, value = membership id."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, meeting_id: int) -> str:
        return f"{self._prefix}:presence:{meeting_id}"

    def add(self, meeting_id: int, sid: str, membership_id: int, is_moderator: bool = False) -> None:
        self._redis.hset(self._key(meeting_id), sid, f"{membership_id}:{'m' if is_moderator else 'p'}")

    def remove(self, meeting_id: int, sid: str) -> int | None:
        key = self._key(meeting_id)
        pipe = self._redis.pipeline()
        pipe.hget(key, sid)
        pipe.hdel(key, sid)
        value, _ = pipe.execute()
        return int(value.split(":")[0]) if value is not None else None

    def _entries(self, meeting_id: int) -> dict[str, tuple[int, bool]]:
        raw = self._redis.hgetall(self._key(meeting_id))
        return {sid: (int(v.split(":")[0]), v.endswith(":m")) for sid, v in raw.items()}

    def membership_ids(self, meeting_id: int) -> set[int]:
        return {m for m, _mod in self._entries(meeting_id).values()}

    def moderator_present(self, meeting_id: int) -> bool:
        return any(mod for _m, mod in self._entries(meeting_id).values())

    def sids_of(self, meeting_id: int, membership_id: int) -> set[str]:
        return {sid for sid, (m, _mod) in self._entries(meeting_id).items() if m == membership_id}

    def clear(self) -> None:
        for key in self._redis.scan_iter(f"{self._prefix}:presence:*"):
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
            self._sids.get(user_id, set()).discard(sid)

    def sids(self, user_id: int) -> set[str]:
        with self._lock:
            return set(self._sids.get(user_id, ()))


class RedisConnections:
    """Which socket ids belong to which user, shared by every process."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:user-sids:{user_id}"

    def add(self, user_id: int, sid: str) -> None:
        self._redis.sadd(self._key(user_id), sid)

    def remove(self, user_id: int, sid: str) -> None:
        self._redis.srem(self._key(user_id), sid)

    def sids(self, user_id: int) -> set[str]:
        return set(self._redis.smembers(self._key(user_id)))


class EventLimiter:
    """Per-user limit on socket events (HTTP limiters do not see socket traffic)."""

    def __init__(self, storage_uri: str, limit: str, prefix: str) -> None:
        options = {"key_prefix": prefix} if storage_uri.startswith("redis") else {}
        self._storage = storage_from_string(storage_uri, **options)
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._limits = parse_many(limit)

    def hit(self, user_id: int) -> bool:
        """Count one event; False when the user is over the limit."""
        key = str(user_id)
        return all(self._limiter.hit(item, "socket", key) for item in self._limits)

    def reset(self) -> None:
        self._storage.reset()


class ChatStores:
    def __init__(self, presence, connections, limiter: EventLimiter, redis_client: redis.Redis | None) -> None:
        self.presence = presence
        self.connections = connections
        self.limiter = limiter
        self.redis = redis_client


def init_stores(app: Flask) -> None:
    prefix = app.config["REDIS_PREFIX"]
    url = app.config.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        presence, connections = RedisPresence(client, prefix), RedisConnections(client, prefix)
    else:
        client = None
        presence, connections = MemoryPresence(), MemoryConnections()
    limiter = EventLimiter(url or "memory://", app.config["SOCKET_EVENT_RATE_LIMIT"], f"{prefix}-events")
    app.extensions["chat_stores"] = ChatStores(presence, connections, limiter, client)


def stores() -> ChatStores:
    return current_app.extensions["chat_stores"]
