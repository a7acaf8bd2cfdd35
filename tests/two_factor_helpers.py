"""The rituals of two-factor sign-in for tests: enrol an account, compute its next code with pyotp (as the app on a
phone would), log in up to the second step, give the code."""

from __future__ import annotations

import time

import pyotp
import pytest

from supportgroup.auth import totp
from supportgroup.extensions import db
from tests.conftest import DEFAULT_PASSWORD, AuthActions, csrf_token

SECOND_STEP = "/login/code"
SETUP = "/account/two-factor/setup"
ON = {"TWO_FACTOR_DEFERRED": False}  # `app_overrides`: two-factor sign-in as in production


class Clock:
    """`auth.totp.clock` in tests: real time plus whole steps moved on, so a test never waits for a new code."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def next_step(self) -> None:
        self.offset += 30


@pytest.fixture(autouse=True)
def totp_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(totp, "clock", clock)
    return clock


def next_code(user) -> str:
    """The code the authenticator shows now; when now's step was used already, the clock moves on to the next
    step first (a person would wait for it)."""
    db.session.refresh(user)
    secret = user.totp_secret
    assert secret, "the account has no secret"
    app_totp = pyotp.TOTP(secret)
    if user.totp_last_step is not None and user.totp_last_step >= app_totp.timecode(totp.clock()):
        totp.clock.next_step()  # type: ignore[attr-defined]
    return app_totp.generate_otp(app_totp.timecode(totp.clock()))


def enrol(user) -> list[str]:
    """Enrol `user` through the services (the secret drawn, the first code confirmed); its ten backup codes."""
    db.session.refresh(user)
    totp.start_enrolment(user)
    backup = totp.confirm_enrolment(user, next_code(user))
    db.session.commit()
    return backup


def password_step(http, username: str, password: str = DEFAULT_PASSWORD, **extra):
    """Log in with the password only; the response (a redirect to the second step, enrolment or the page)."""
    response = AuthActions(http).login(username, password, **extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def give_code(http, code: str):
    token = csrf_token(http, SECOND_STEP)
    return http.post(SECOND_STEP, data={"csrf_token": token, "code": code})


def signed_in(app, user, username: str, **extra):
    """A client past both steps for an enrolled `user`."""
    http = app.test_client()
    assert password_step(http, username, **extra).headers["Location"] == SECOND_STEP
    assert give_code(http, next_code(user)).status_code == 302
    return http


def location(response) -> str:
    return response.headers.get("Location", "")
