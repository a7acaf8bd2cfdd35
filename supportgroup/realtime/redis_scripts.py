"""The Lua scripts and time helpers that presence, the user-socket index and the send gate run in Redis.

Shared by `presence_redis.py`, `connections.py` and `gate.py` (which embeds `FIND_MODERATOR` in its own script).
"""

from __future__ import annotations

import math

# Times are Redis server time in milliseconds (`TIME`), so clock skew between hosts cannot make a live
# socket look stale. Lua turns numbers into strings with 14 significant digits: exact for milliseconds.
NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: hash (socket id -> value), sorted set (socket id -> holder's last stamp), sorted set (socket id ->
# last proof of life). ARGV: key lifetime (s), then triples of socket id, value and proof age (ms, '' for
# none). Sets the value, stamps the socket as held now, and (moderators) as proven `age` ms ago.
TOUCH = (
    NOW_MS
    + """
for i = 2, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], now, ARGV[i])
  if ARGV[i + 2] ~= '' then redis.call('ZADD', KEYS[3], now - tonumber(ARGV[i + 2]), ARGV[i]) end
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[1]) end
return now
"""
)

# KEYS: hash, holder stamps, proofs (as for TOUCH). ARGV: age (ms) beyond which an entry's holder is dead.
# Deletes dead entries and returns how many it deleted (so only one process reports a given crash).
PRUNE = (
    NOW_MS
    + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[1])))
for _, sid in ipairs(dead) do
  redis.call('ZREM', KEYS[2], sid)
  redis.call('ZREM', KEYS[3], sid)
  redis.call('HDEL', KEYS[1], sid)
end
return #dead
"""
)

# KEYS: a sorted set (socket id -> last seen). ARGV: key lifetime (s), age (ms) beyond which an entry
# is dropped, then socket ids to stamp as seen now.
TOUCH_SET = (
    NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return now
"""
)


# Lua, with hash_key, proof_key (as for TOUCH) and oldest (ms) set: `present` is 1 when a moderator
# socket of the meeting proved it is alive since `oldest`. Only the holder writes proofs, so a dead process's
# moderators stop counting too. Runs on every chat message (realtime/gate.py): answered inside Redis.
FIND_MODERATOR = """
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
MODERATOR_PRESENT = (
    NOW_MS + "local hash_key, proof_key = KEYS[1], KEYS[2]\n"
    "local oldest = now - tonumber(ARGV[1])\n" + FIND_MODERATOR + "return present\n"
)


def ms(seconds: float) -> int:
    return int(seconds * 1000)


def key_lifetime(ttl: float) -> int:
    """How long a key outlives its last refresh: cleans up after processes that all died."""
    return max(60, math.ceil(ttl * 6))
