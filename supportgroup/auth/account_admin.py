"""Operators' account commands: `flask set-role`, `flask disable-user`, `flask enable-user`, `flask reset-password`,
`flask reset-two-factor`.

The same services as the admin console (`auth/accounts.py`, `auth/issued_codes.py`, `auth/totp.py`), audited with
actor None (the CLI) and the `--reason` given, which every command requires (the audit log says why). A change that
takes rights away is committed and then takes away the rooms the lost right carried (`realtime.rooms.revoke_rooms`),
in every server process through the Socket.IO message queue, exactly as the console does. (Without Redis, in the
embedded one-process deployment, a command runs in a process of its own and cannot reach the server's sockets: its
change applies there when the sockets reconnect, so restart the server.)
"""

from __future__ import annotations

from collections.abc import Callable

import click
import redis
from flask import current_app
from flask.cli import with_appcontext

from ..edge import committing
from ..errors import DomainError
from ..models import Role, User
from ..realtime.rooms import disconnect_user, pending_revocations, revoke_rooms
from ..usernames import find_user
from .accounts import set_enabled, set_role
from .issued_codes import issue_reset_code
from .totp import reset as reset_two_factor

UNCHANGED = ("same_role", "unchanged")  # nothing to change: not an error for a command that is run again
REASON = click.option("--reason", required=True, help="Why (required): kept in the audit log.")


def _user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise click.ClickException("There is no account with this username.")
    return user


def _after(user_id: int) -> None:
    ended = revoke_rooms(user_id=user_id)
    if (user_id, None) in pending_revocations():  # failed (Redis): this process has no heartbeat to retry it
        raise click.ClickException(
            "The change is saved, but open sockets could not be checked (Redis failed). "
            "They may still hear their meetings: run the command again once Redis answers."
        )
    click.echo(f"Disconnected sockets: {ended}.")
    if not current_app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        click.echo("No message queue: a running server sees this when its sockets reconnect (restart it).")


def _end_sockets(user_id: int) -> None:
    """End every socket of the account, in every server process (its sessions ended already, with the commit)."""
    try:
        disconnect_user(user_id)
    except (redis.RedisError, OSError):
        raise click.ClickException(
            "The change is saved and every web session of the account has ended, but its open sockets could not be "
            "reached (Redis failed): restart the server processes, or run the command again once Redis answers."
        ) from None


def _change(username: str, act: Callable[[User], object], done: str, *, takes_rights: bool) -> None:
    """The edge of each command: load, act (a service that flushes), commit once, say so, then take the rooms
    a lost right carried (`takes_rights`). A refusal (the last admin, an empty reason) is a clean error. An act
    that returns True ended every session of the account (`set_role` to a role that needs a second factor): its
    sockets end too."""
    user = _user(username)
    user_id = user.id
    sessions_ended = False
    try:
        with committing():
            sessions_ended = act(user) is True
    except DomainError as error:
        if error.code not in UNCHANGED:
            raise click.ClickException(str(error.message)) from None
        done = str(error.message)  # run again (after a Redis failure, say): the rooms are checked again
    click.echo(done)
    if sessions_ended:
        _end_sockets(user_id)
    if takes_rights:
        _after(user_id)


@click.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--first-name", help="When the account becomes a peer expert: the first name their groups see.")
@REASON
@with_appcontext
def set_role_command(username: str, role: str, first_name: str | None, reason: str) -> None:
    """Give USERNAME the account role ROLE; rooms the old role carried are taken away at once."""
    _change(
        username,
        lambda user: set_role(None, user, Role(role), reason, first_name=first_name),
        f"Account '{username}' now has role {role}.",
        takes_rights=True,
    )


@click.command("disable-user")
@click.argument("username")
@REASON
@with_appcontext
def disable_user_command(username: str, reason: str) -> None:
    """Disable USERNAME: no login, every session and socket ended."""
    _change(
        username,
        lambda user: set_enabled(None, user, False, reason),
        f"Account '{username}' is disabled.",
        takes_rights=True,
    )


@click.command("enable-user")
@click.argument("username")
@REASON
@with_appcontext
def enable_user_command(username: str, reason: str) -> None:
    """Enable USERNAME again."""
    _change(
        username,
        lambda user: set_enabled(None, user, True, reason),
        f"Account '{username}' is enabled.",
        takes_rights=False,
    )


@click.command("reset-password")
@click.argument("username")
@REASON
@with_appcontext
def reset_password_command(username: str, reason: str) -> None:
    """Print a one-time reset code for USERNAME (valid 24 hours, used once): its holder sets a new password with
    it at "Forgot password?". Give it by phone or in person; it is shown only now."""
    user = _user(username)
    try:
        with committing():
            code, expires_at = issue_reset_code(None, user, reason)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Reset code for '{user.username}': {code}")
    click.echo(f"Valid until {expires_at:%Y-%m-%d %H:%M} UTC, once. Any earlier reset code no longer works.")


@click.command("reset-two-factor")
@click.argument("username")
@REASON
@with_appcontext
def reset_two_factor_command(username: str, reason: str) -> None:
    """Clear USERNAME's lost second factor (authenticator and backup codes), as an admin does in the console: every
    session and socket of the account ends, and the person sets it up again at the next login. For a lone admin
    who lost both phone and backup codes; check first that it is really them who asks."""
    user = _user(username)
    user_id = user.id
    try:
        with committing():
            reset_two_factor(None, user, reason)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Two-factor sign-in of '{user.username}' is reset: it is set up again at the next login.")
    _end_sockets(user_id)


COMMANDS = (
    set_role_command,
    disable_user_command,
    enable_user_command,
    reset_password_command,
    reset_two_factor_command,
)
