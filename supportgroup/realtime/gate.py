"""The per-account budget of socket events, and the send path's one Redis round trip.

HTTP limiters (Flask-Limiter) do not see socket traffic, so every socket event counts against a budget per
account (`SOCKET_EVENT_RATE_LIMIT`, e.g. "20 per 10 seconds; 100 per minute": fixed windows, parsed by the
`limits` library). The counters live where presence lives: in Redis when several processes share the
load, else in this process.

A chat message needs three answers from Redis besides its count: the epochs of the scopes its cached
posting rights were read from (`chat/rights.py`) and whether a peer expert is present (participants may
write only then). `Gate.check` asks all three in one Lua script, one round trip instead of three: at a few
hundred messages a second, round trips are a large share of the server's CPU (docs/benchmarks.md).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

import redis
from limits import parse_many

from .epochs import MemoryEpochs, RedisEpochs
from .presence import MemoryPresence
from .presence_redis import RedisPresence
from .redis_scripts import FIND_MODERATOR, NOW_MS

# KEYS: the account's counters (one per window), the epoch keys, then (optionally) the meeting's presence
# hash and proofs (`RedisPresence.moderator_keys`). ARGV: number of counters, number of epoch keys, the
# presence TTL in ms ('' = do not look), a fresh token for missing epoch keys, their lifetime (s), then per
# counter its limit and window (s).
# Returns {0} when over budget, else {1, moderator present (0/1), epoch tokens...}.
_CHECK = (
    NOW_MS
    + """
local counters, epochs = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, counters do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[5 + 2 * i]) end
  if count > tonumber(ARGV[4 + 2 * i]) then return {0} end
end
local result = {1, 0}
for i = 1, epochs do
  local key = KEYS[counters + i]
  local token = redis.call('GET', key)
  if not token then
    token = ARGV[4] .. i
    redis.call('SET', key, token, 'EX', ARGV[5])
  end
  result[2 + i] = token
end
if ARGV[3] ~= '' then
  local hash_key, proof_key = KEYS[counters + epochs + 1], KEYS[counters + epochs + 2]
  local oldest = now - tonumber(ARGV[3])
"""
    + FIND_MODERATOR
    + """
  result[2] = present
end
return result
"""
)


@dataclass(frozen=True)
class Answer:
    allowed: bool
    epochs: tuple[str, ...] = ()
    moderator_present: bool | None = None  # None: not asked


class _Windows:
    """Fixed windows as `limits` counts them: a window starts with its first event and lasts its length, on
    the clock of the store that holds the counter (Redis's when shared), never a host's."""

    def __init__(self, limit: str) -> None:
        self.windows = [(item.amount, item.get_expiry()) for item in parse_many(limit)]

    def counters(self, user_id: int) -> list[tuple[str, int, int]]:
        """(counter name, limit, window seconds) for each window."""
        return [(f"{user_id}:{amount}:{seconds}", amount, seconds) for amount, seconds in self.windows]


class MemoryGate:
    """One process: counters, epochs and presence in this process's memory."""

    def __init__(self, limit: str, epochs: MemoryEpochs, presence: MemoryPresence) -> None:
        self._windows = _Windows(limit)
        self._epochs, self._presence = epochs, presence
        self._counts: dict[str, int] = {}
        self._expiry: dict[str, float] = {}
        self._sweep_at = 1000
        self._lock = threading.Lock()

    def hit(self, user_id: int) -> bool:
        """Count one event; False when the account is over its budget."""
        now = time.monotonic()
        with self._lock:
            for name, amount, seconds in self._windows.counters(user_id):
                if name in self._expiry and self._expiry[name] <= now:  # that window is over: a new one starts
                    del self._counts[name], self._expiry[name]
                self._counts[name] = self._counts.get(name, 0) + 1
                self._expiry.setdefault(name, now + seconds)
                if self._counts[name] > amount:
                    return False
            if len(self._expiry) > self._sweep_at:  # forget accounts whose windows ended long ago
                for name in [n for n, until in self._expiry.items() if until <= now]:
                    del self._counts[name], self._expiry[name]
                self._sweep_at = 2 * len(self._expiry) + 1000
        return True

    def check(self, user_id: int, epoch_keys: list[str], presence_of: int | None) -> Answer:
        if not self.hit(user_id):
            return Answer(False)
        present = self._presence.moderator_present(presence_of) if presence_of is not None else None
        return Answer(True, self._epochs.read(epoch_keys) if epoch_keys else (), present)

    def counter_names(self) -> list[str]:
        with self._lock:
            return list(self._counts)


class RedisGate:
    """Several processes: one Lua script per event (the count), or per message (count, epochs, presence)."""

    def __init__(
        self, client: redis.Redis, prefix: str, limit: str, epochs: RedisEpochs, presence: RedisPresence
    ) -> None:
        self._windows = _Windows(limit)
        self._prefix = f"{prefix}:socket-rate:"
        self._epochs, self._presence = epochs, presence
        self._script = client.register_script(_CHECK)

    def hit(self, user_id: int) -> bool:
        return self.check(user_id, [], None).allowed

    def check(self, user_id: int, epoch_keys: list[str], presence_of: int | None) -> Answer:
        counters = self._windows.counters(user_id)
        keys = [self._prefix + name for name, _amount, _seconds in counters]
        keys += self._epochs.names(epoch_keys)
        args: list = [len(counters), len(epoch_keys), "", secrets.token_hex(8), RedisEpochs.LIFETIME]
        if presence_of is not None:
            keys += self._presence.moderator_keys(presence_of)
            args[2] = self._presence.ttl_ms
        for _name, amount, seconds in counters:
            args += [amount, seconds]
        reply = self._script(keys=keys, args=args)
        if reply[0] == 0:
            return Answer(False)
        return Answer(True, tuple(reply[2:]), bool(reply[1]) if presence_of is not None else None)
