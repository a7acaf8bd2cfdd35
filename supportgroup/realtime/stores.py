"""Chat state that several server processes must share: presence, a user's sockets, authorization epochs,
event budgets. This module only builds them (`init_stores`) and hands them out (`stores()`).

With `REDIS_URL` set they live in Redis, so any process sees the same state. Without it (the embedded
default, one process) they live in this process's memory, which is then the only process there is.

| store | memory | Redis |
|---|---|---|
| presence | `presence.MemoryPresence` | `presence_redis.RedisPresence` |
| a user's socket ids | `connections.MemoryConnections` | `connections.RedisConnections` |
| authorization epochs | `epochs.MemoryEpochs` | `epochs.RedisEpochs` |
| event budget, the send path's round trip | `gate.MemoryGate` | `gate.RedisGate` |

The Lua scripts they run are in `redis_scripts.py`. Imports go one way: this module imports the others.
"""

from __future__ import annotations

import redis
from flask import Flask, current_app

from .connections import MemoryConnections, RedisConnections
from .epochs import MemoryEpochs, RedisEpochs
from .gate import MemoryGate, RedisGate
from .presence import MemoryPresence
from .presence_redis import RedisPresence


class ChatStores:
    """The stores of one app: all in memory (embedded), or all in Redis (`redis` is then the client)."""

    def __init__(
        self,
        presence: MemoryPresence | RedisPresence,
        connections: MemoryConnections | RedisConnections,
        redis_client: redis.Redis | None,
        epochs: MemoryEpochs | RedisEpochs,
        gate: MemoryGate | RedisGate,
    ) -> None:
        self.presence = presence
        self.connections = connections
        self.redis = redis_client
        self.epochs = epochs
        self.gate = gate  # the socket event budget, and the send path's one round trip (realtime/gate.py)


def _in_redis(app: Flask, url: str) -> ChatStores:
    limit, prefix = app.config["SOCKET_EVENT_RATE_LIMIT"], app.config["REDIS_PREFIX"]
    timeout = float(app.config["REDIS_SOCKET_TIMEOUT"])
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout, 1.0),
    )
    ttl = float(app.config["PRESENCE_TTL"])
    presence, epochs = RedisPresence(client, prefix, ttl), RedisEpochs(client, prefix)
    return ChatStores(
        presence,
        RedisConnections(client, prefix, ttl),
        client,
        epochs,
        RedisGate(client, prefix, limit, epochs, presence),
    )


def _in_memory(app: Flask) -> ChatStores:
    presence, epochs = MemoryPresence(float(app.config["PRESENCE_TTL"])), MemoryEpochs()
    return ChatStores(
        presence, MemoryConnections(), None, epochs, MemoryGate(app.config["SOCKET_EVENT_RATE_LIMIT"], epochs, presence)
    )


def init_stores(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["chat_stores"] = _in_redis(app, url) if url else _in_memory(app)


def stores() -> ChatStores:
    return current_app.extensions["chat_stores"]
