"""Rate-limit keys that never store a raw IP address or username.

The key is a keyed hash (HMAC with the app's secret), so Redis or memory holds only an opaque token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app, request


def keyed_hash(value: str, purpose: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def client_key() -> str:
    """The requesting client, as a keyed hash of its address."""
    return keyed_hash(request.remote_addr or "unknown", "ip")


def username_at_address(purpose: str) -> Callable[[], str]:
    """A key function: the username a form names, together with the client's address, as a keyed hash. Never the
    username alone: anyone who knows a name could then lock that person out. Each `purpose` counts apart."""

    def key() -> str:
        name = (request.form.get("username") or "").strip().lower()
        return keyed_hash(f"{name}|{request.remote_addr or 'unknown'}", purpose)

    return key


username_address_key = username_at_address("login-user")
recovery_username_key = username_at_address("recover-user")  # failed recoveries and failed logins count apart


def account_key() -> str:
    """The logged-in account (the client's address when no one is logged in), as a keyed hash: a limit that
    follows a coordinator from address to address."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return keyed_hash(str(current_user.id), "account")
    return client_key()
