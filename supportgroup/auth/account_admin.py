"""Operators' account changes that take rights away: `flask set-role`, `flask disable-user`, `flask enable-user`.

The app has no page for these; operators run them on a server. Each one is audited, committed, and then takes
away the rooms the lost right carried (`realtime.rooms.revoke_rooms`), in every server process through the
Socket.IO message queue, exactly as the coordinators' pages do. (Without Redis, in the embedded one-process
deployment, a command runs in a process of its own and cannot reach the server's sockets: its change applies
there when the sockets reconnect, so restart the server.)
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..audit import AuditAction, record
from ..edge import committing
from ..extensions import db
from ..models import Role, User
from ..realtime.rooms import pending_revocations, revoke_rooms
from ..usernames import find_user


def set_role(user: User, role: Role) -> None:
    """Change an account's role (e.g. a peer expert leaves the pool). Flushes; the caller commits."""
    record(None, AuditAction.SET_ROLE, "user", user.id, reason=f"{user.role.value} -> {role.value}")
    user.role = role
    db.session.flush()


def set_enabled(user: User, enabled: bool) -> None:
    """Disable or enable an account. Disabling also ends every web session (a new session token)."""
    record(None, AuditAction.ENABLE_USER if enabled else AuditAction.DISABLE_USER, "user", user.id)
    user.is_enabled = enabled
    if not enabled:
        user.rotate_session_token()
    db.session.flush()


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


def _change(username: str, act, done: str, *, takes_rights: bool) -> None:
    """The edge of each command: load, act (a service that flushes), commit once, say so, then take the rooms
    a lost right carried (`takes_rights`)."""
    user = _user(username)
    user_id = user.id
    with committing():
        act(user)
    click.echo(done)
    if takes_rights:
        _after(user_id)


@click.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@with_appcontext
def set_role_command(username: str, role: str) -> None:
    """Give USERNAME the account role ROLE; rooms the old role carried are taken away at once."""
    _change(
        username,
        lambda user: set_role(user, Role(role)),
        f"Account '{username}' now has role {role}.",
        takes_rights=True,
    )


@click.command("disable-user")
@click.argument("username")
@with_appcontext
def disable_user_command(username: str) -> None:
    """Disable USERNAME: no login, every session and socket ended."""
    _change(username, lambda user: set_enabled(user, False), f"Account '{username}' is disabled.", takes_rights=True)


@click.command("enable-user")
@click.argument("username")
@with_appcontext
def enable_user_command(username: str) -> None:
    """Enable USERNAME again."""
    _change(username, lambda user: set_enabled(user, True), f"Account '{username}' is enabled.", takes_rights=False)


COMMANDS = (set_role_command, disable_user_command, enable_user_command)
