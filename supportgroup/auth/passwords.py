"""Password hashing with argon2id (memory-hard), tuned by config."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# A valid hash of a random password: verifying against it when a username does not exist makes a
# wrong username cost the same time as a wrong password, so timing does not reveal accounts.
_DUMMY_PASSWORD = "not-a-real-password-0f1e2d3c"

# The stored "hash" of an account that has no password yet (a staff account awaiting activation, made by an admin
# who never chooses a password for anyone). No argon2 hash starts with "!", so nothing ever verifies against it.
UNUSABLE_HASH = "!awaiting-activation"


def is_unusable(password_hash: str | None) -> bool:
    return bool(password_hash) and str(password_hash).startswith("!")


def _hasher() -> PasswordHasher:
    """The app's hasher for its current cost settings (built once per setting, kept in `app.extensions`)."""
    cfg = current_app.config
    hashers: dict[tuple[int, int], PasswordHasher] = current_app.extensions.setdefault("argon2_hashers", {})
    key = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    hasher = hashers.get(key)
    if hasher is None:
        hasher = hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None or is_unusable(password_hash):  # the same cost as a real try: timing tells nothing
        dummy = current_app.extensions.get("argon2_dummy_hash")
        if dummy is None:
            dummy = current_app.extensions["argon2_dummy_hash"] = hasher.hash(_DUMMY_PASSWORD)
        password_hash = dummy
        password = password + "\x00never-matches"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
