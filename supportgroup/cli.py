"""Operations commands: `flask create-user`, `flask seed-demo`, `flask purge`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .auth.services import AccountError, create_user
from .extensions import db
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
        user = create_user(username, password, Role(role), first_name=first_name, trained=trained)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from None
    db.session.commit()
    click.echo(f"Created {user.role.value} account '{user.username}'.")


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Seed outside development (creates accounts with DEMO_PASSWORD).")
@with_appcontext
def seed_demo_command(force: bool) -> None:
    """Create the demo accounts, groups and meetings (idempotent: a second run adds nothing twice)."""
    from .demo import seed_demo

    if current_app.config["ENV_NAME"] not in ("development", "testing") and not force:
        raise click.ClickException("seed-demo creates accounts with a known password; it runs only in "
                                   "development (SUPPORTGROUP_ENV=development), or with --force.")
    summary = seed_demo(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    click.echo(summary)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Hard-delete transcripts, reports, alerts, notes and incidents past their retention period (for cron)."""
    from .safety.retention import format_counts, purge

    counts = purge()
    db.session.commit()
    click.echo(f"Purged: {format_counts(counts)}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(purge_command)
