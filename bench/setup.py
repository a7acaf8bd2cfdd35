"""The benchmark's data set and the logged-in session cookies of its accounts, for the load generator.

Runs against the app as the environment configures it (the harness's: production config, the bench's
PostgreSQL and Redis); the data is built by `supportgroup.benchdata` through the app's own services, the
cookies by `bench/sessions.py`.

    python -m bench.setup --groups 60 --participants 900 --calendar-groups 50 --out clients.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sessions import USER_AGENT, cheap_password_hashing, session_cookie  # noqa: E402
from supportgroup.auth.services import find_user  # noqa: E402
from supportgroup.benchdata import setup  # noqa: E402
from supportgroup.extensions import db  # noqa: E402


def build(
    app: Flask,
    *,
    chat_groups: int,
    participants: int,
    calendar_groups: int,
    force: bool = False,
    user_agent: str = USER_AGENT,
) -> tuple[str, list[dict]]:
    """Build (or complete) the data set, commit, and return its summary and the accounts with their cookies."""
    cheap_password_hashing(app)
    with app.app_context():
        summary = setup(
            chat_groups=chat_groups, participants=participants, calendar_groups=calendar_groups, force=force
        )
        db.session.commit()
        clients = []
        for client in summary.clients:
            user = find_user(client.user)
            assert user is not None
            clients.append({**client.as_dict(), "cookie": session_cookie(app, user, user_agent)})
        db.session.remove()
    return summary.describe(), clients


def write_clients(clients: list[dict], out: str) -> None:
    """The cookies are live sessions: the file is readable by this user only."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(clients, handle)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--groups", type=int, default=60, help="chat groups, each with a peer expert and an open meeting"
    )
    parser.add_argument("--participants", type=int, default=900, help="participants, spread over the chat groups")
    parser.add_argument("--calendar-groups", type=int, default=50, help="groups with a year of weekly meetings")
    parser.add_argument("--force", action="store_true", help="also in a database with other accounts")
    parser.add_argument("--out", required=True, help="JSON file: [{user, role, cookie, meeting_id, group}]")
    args = parser.parse_args(argv)
    if args.participants and not args.groups:
        raise SystemExit("Participants need at least one chat group.")
    from supportgroup import create_app

    summary, clients = build(
        create_app(),
        chat_groups=args.groups,
        participants=args.participants,
        calendar_groups=args.calendar_groups,
        force=args.force,
    )
    write_clients(clients, args.out)
    print(f"Bench data ready: {summary} Cookies in {args.out}.")


if __name__ == "__main__":
    main()
