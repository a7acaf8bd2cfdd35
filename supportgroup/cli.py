"""Operations commands: `flask create-user`, `flask seed-demo`, `flask purge`, `flask extend-series`,
`flask bench-setup`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .audit import AuditAction, record
from .auth.services import create_user
from .edge import committing
from .errors import DomainError
from .models import Role


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.PARTICIPANT.value, show_default=True)
@click.option("--first-name", help="For peer experts: the first name shown to their groups.")
@click.option("--trained/--not-trained", default=False, help="For peer experts: has completed the training.")
@click.password_option("--password", prompt=True, help="Asked for when not given (never put it in shell history).")
@with_appcontext
def create_user_command(username: str, role: str, first_name: str | None, trained: bool, password: str) -> None:
    """Create an account with USERNAME and ROLE; asks for the password."""
    try:
        with committing():
            user = create_user(username, password, Role(role), first_name=first_name, trained=trained)
            record(None, AuditAction.CREATE_ACCOUNT, "user", user.id, reason=user.role.value)  # the CLI, as in admin/
    except DomainError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from None
    click.echo(f"Created {user.role.value} account '{user.username}'.")


@click.command("seed-demo")
@click.option(
    "--force",
    is_flag=True,
    help="Seed outside development: participants get DEMO_PASSWORD; staff accounts get none (activation links).",
)
@with_appcontext
def seed_demo_command(force: bool) -> None:
    """Create the demo accounts, groups and meetings (idempotent: a second run adds nothing twice)."""
    from .demo import seed_demo

    local = current_app.config["ENV_NAME"] in ("development", "testing")
    if not local and not force:
        raise click.ClickException(
            "seed-demo creates accounts with a known password; it runs only in "
            "development (SUPPORTGROUP_ENV=development), or with --force."
        )
    with committing():  # a known password opens a staff account only on a developer's machine
        summary = seed_demo(current_app.config["DEMO_PASSWORD"], staff_passwords=local)
    click.echo(summary)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Hard-delete transcripts, reports, alerts, notes and incidents past their retention period (for cron)."""
    from .safety.retention import format_counts, purge

    with committing():
        counts = purge()
    click.echo(f"Purged: {format_counts(counts)}")


@click.command("extend-series")
@with_appcontext
def extend_series_command() -> None:
    """Plan the next meetings of open-ended series, so each has 26 weeks ahead (for cron; servers do it hourly)."""
    from .scheduling.horizon import extend_open_series

    with committing():
        added = extend_open_series()
    click.echo(f"Planned {added} meetings.")


@click.command("bench-setup")
@click.option(
    "--groups",
    "chat_groups",
    type=click.IntRange(0, 1000),
    default=60,
    show_default=True,
    help="Chat groups, each with one peer expert and an open meeting.",
)
@click.option(
    "--participants",
    type=click.IntRange(0, 100000),
    default=900,
    show_default=True,
    help="Participants, spread over the chat groups.",
)
@click.option(
    "--calendar-groups",
    type=click.IntRange(0, 1000),
    default=50,
    show_default=True,
    help="Groups with a year of weekly meetings, for the coordinator's calendar.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="JSON file for the accounts: [{user, role, meeting_id, group}].",
)
@click.option("--force", is_flag=True, help="Also in a database that has accounts other than bench accounts.")
@with_appcontext
def bench_setup_command(chat_groups: int, participants: int, calendar_groups: int, out: str, force: bool) -> None:
    """Create the benchmark's groups, accounts and meetings and list the accounts (development and testing only;
    `make bench` runs bench/setup.py, which also makes their session cookies)."""
    import json
    import os

    from .benchdata import setup

    if current_app.config["ENV_NAME"] not in ("development", "testing"):
        raise click.ClickException(
            "bench-setup creates hundreds of accounts; it runs only in development "
            "(SUPPORTGROUP_ENV=development) or testing."
        )
    if participants and not chat_groups:
        raise click.ClickException("Participants need at least one chat group.")
    try:
        with committing():
            summary = setup(
                chat_groups=chat_groups, participants=participants, calendar_groups=calendar_groups, force=force
            )
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    # Readable by this user only (bench/setup.py adds live session cookies to the same file).
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump([client.as_dict() for client in summary.clients], handle)
    click.echo(f"Bench data ready: {summary.describe()} Accounts in {out}.")


def register_cli(app: Flask) -> None:
    from .auth.account_admin import COMMANDS as account_commands

    for command in account_commands:
        app.cli.add_command(command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(extend_series_command)
    app.cli.add_command(bench_setup_command)
