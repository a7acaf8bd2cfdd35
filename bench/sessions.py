"""Logged-in session cookies for the bench accounts, made without their password (bench only).

The same steps as the login route after the password check (a new session, `login_user`, the idle stamp),
in a request context that looks like the load generator's (address and User-Agent, which Flask-Login's
session protection hashes), signed with Flask's own session interface. This saves a POST /login (and an
argon2 verification) per account, and keeps the minting of sessions out of the app's code.
"""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user

from supportgroup.auth.idle import mark_active
from supportgroup.models import User

# The generator sends this User-Agent (bench/harness.py, bench/loadgen.js).
USER_AGENT = "supportgroup-bench/1"
REMOTE_ADDR = "127.0.0.1"


def cheap_password_hashing(app: Flask) -> None:
    """Hash the bench accounts' (random, never shown) password cheaply: set-up makes about a thousand of them.

    Only in the set-up's own app instance: the servers the benchmark measures keep the configured cost.
    """
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=64)


def session_cookie(app: Flask, user: User, user_agent: str = USER_AGENT, remote_addr: str = REMOTE_ADDR) -> str:
    """A `Cookie` header value for a logged-in session of `user`, as POST /login would set it."""
    interface = app.session_interface
    if not isinstance(interface, SecureCookieSessionInterface):
        raise TypeError("bench cookies need Flask's signed-cookie sessions")
    with app.test_request_context(
        "/login", method="POST", environ_base={"REMOTE_ADDR": remote_addr}, headers={"User-Agent": user_agent}
    ):
        session.clear()
        login_user(user, remember=False)
        mark_active()
        serializer = interface.get_signing_serializer(app)
        assert serializer is not None  # None only without a SECRET_KEY, which create_app refuses
        value = serializer.dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"
