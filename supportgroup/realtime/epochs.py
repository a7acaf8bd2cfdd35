"""Version tokens of authorization scopes (`chat/rights.py`): in this process's memory, or shared in Redis."""

from __future__ import annotations

import secrets
import threading
from typing import cast

import redis


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
        return tuple(cast(list[str], tokens))  # decode_responses: str, never None after SET NX

    def bump(self, keys: set[str]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._prefix + key, secrets.token_hex(8), ex=self.LIFETIME)
        pipe.execute()
