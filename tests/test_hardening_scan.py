"""Hardening scan: after a scripted session, look for personal data where it must never be.

The session: register, log out, a failed and a good login, join a meeting over Socket.IO with a peer
expert present, send messages with distinctive texts, log out. Then scan
(a) every text column of every table (by reflection) for IP addresses;
(b) everything logged, at DEBUG, for the message texts, the passwords, raw addresses, and an alias on
    the same line as its account's username;
(c) every socket payload (events and acks) the participants received for account ids and usernames;
(d) the rate-limit keys (memory or Redis) for raw addresses and usernames.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re

import pytest
import redis as redis_lib
from sqlalchemy import MetaData, select

from supportgroup.extensions import limiter
from supportgroup.models import Membership, User
from supportgroup.ratelimit_keys import keyed_hash
from supportgroup.realtime.stores import stores
from tests.chat_helpers import join, present_scene, send
from tests.conftest import DEFAULT_PASSWORD, AuthActions, csrf_token, socket_test_client

CLIENT_IP = "127.0.0.1"  # what the Flask test client reports as the remote address
NEW_USER = "lantern_walker7"
NEW_PASSWORD = "violet-harbour-mosaic-42"
WRONG_PASSWORD = "wrong-password-pelican-9"
TEXTS = [
    "zebra-umbrella-4471 he followed me home",
    "quartz-meadow-9902 I am scared tonight",
    "falcon-lattice-3318 thank you all",
]

IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6_CANDIDATE = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?![0-9A-Fa-f:])")


def ip_addresses(text: str) -> list[str]:
    found = []
    for candidate in IPV4.findall(text) + IPV6_CANDIDATE.findall(text):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            continue
        found.append(candidate)
    return found


def test_ip_pattern_finds_addresses_and_not_times():
    assert ip_addresses("from 127.0.0.1 and ::1 and 2001:db8::8a2e:370:7334 and ::ffff:10.0.0.1")
    assert len(ip_addresses("from 127.0.0.1 and ::1 and 2001:db8::8a2e:370:7334")) == 3
    assert ip_addresses("at 19:30:00 on 2026-11-22, version 1.2.3, seq 4") == []


def _scripted_session(app, factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    payloads: list = []

    # Register a new account over HTTP, log out, then a failed and a good login.
    http = app.test_client()
    token = csrf_token(http, "/register")
    assert (
        http.post(
            "/register",
            data={"csrf_token": token, "username": NEW_USER, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ).status_code
        == 200  # the page with the recovery codes, shown once
    )
    auth = AuthActions(http)
    auth.logout()
    assert auth.login(NEW_USER, WRONG_PASSWORD).status_code == 200
    assert auth.login(NEW_USER, NEW_PASSWORD).status_code == 302

    # A coordinator places the new account in the group.
    newcomer = db.session.scalar(select(User).where(User.username == NEW_USER))
    membership = factory.member(scene.group, newcomer)

    sio = socket_test_client(app, http)
    assert sio.is_connected()
    alice = socket_client("alice")
    for client in (sio, alice):
        ack = join(client, scene.meeting)
        payloads.append(ack)
    for n, text in enumerate(TEXTS[:2]):
        ack = send(sio, scene.meeting, text, client_id=f"scan-{n:04d}")
        assert ack["ok"], ack
        payloads.append(ack)
    ack = send(alice, scene.meeting, TEXTS[2], client_id="scan-alice")
    assert ack["ok"], ack
    payloads.append(ack)
    assert send(scene.expert_socket, scene.meeting, "Welcome, both of you", client_id="scan-expert")["ok"]

    for client in (sio, alice):
        payloads.extend({"event": p["name"], "args": p["args"]} for p in client.get_received())
    assert any(p.get("event") == "message" for p in payloads if isinstance(p, dict))

    auth.logout()
    assert not sio.is_connected()
    return scene, membership, payloads


def _db_text_values(db):
    """Every non-null value of every column of every table, as text (reflection, not the models)."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    assert "messages" in metadata.tables and "users" in metadata.tables
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, (dict, list)):
                        value = json.dumps(value)
                    if isinstance(value, (bytes, bytearray, memoryview)):
                        value = bytes(value).decode("utf-8", "replace")
                    if isinstance(value, str):
                        yield f"{table.name}.{column.name}", value


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
            yield f"{path}.{key}#key", key
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def _rate_limit_keys(app, redis_prefix) -> list[str]:
    if app.config.get("REDIS_URL"):
        client = redis_lib.Redis.from_url(app.config["REDIS_URL"], decode_responses=True)
        try:
            return list(client.scan_iter(f"{redis_prefix}*"))
        finally:
            client.close()
    keys = list(limiter.storage.storage.keys())
    keys += stores().gate.counter_names()
    return keys


def _production_logging(app, caplog) -> None:
    """Logging as a server process has it, with the root turned up to DEBUG by an operator.

    Undo what the test process configured (alembic's fileConfig pins some loggers), then let the app
    configure its logging again, so the scan sees what the app itself allows.
    """
    from supportgroup import _configure_logging

    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.NOTSET, logger=name)
    caplog.set_level(logging.DEBUG)
    _configure_logging(app)
    caplog.set_level(logging.DEBUG, logger="supportgroup")


@pytest.mark.committed  # reads every table through a connection of its own
def test_no_address_is_stored_anywhere(app, factory, socket_client, db):
    _scripted_session(app, factory, socket_client, db)
    db.session.expire_all()
    # (a) No IP address stored anywhere.
    stored = list(_db_text_values(db))
    assert any(value in TEXTS for _where, value in stored)  # the scan does see the messages
    leaks = [(where, ip_addresses(value)) for where, value in stored if ip_addresses(value) or CLIENT_IP in value]
    assert leaks == []


def test_logs_hold_no_text_password_address_or_alias_with_account(app, factory, socket_client, db, caplog):
    _production_logging(app, caplog)
    _scripted_session(app, factory, socket_client, db)
    db.session.expire_all()
    # (b) The logs: no message text, password, raw address, or alias next to its account.
    assert caplog.records, "nothing was captured: the scan would prove nothing"
    lines = []  # (logger, line)
    for record in caplog.records:
        text = record.getMessage() + ("\n" + record.exc_text if record.exc_text else "")
        lines.extend((record.name, line) for line in text.splitlines())
    pairs = [(m.alias, m.user.username) for m in db.session.scalars(select(Membership)) if m.alias]
    assert pairs
    leaks = set()
    for name, line in lines:
        for secret in (*TEXTS, NEW_PASSWORD, WRONG_PASSWORD, DEFAULT_PASSWORD, CLIENT_IP):
            if secret in line:
                leaks.add((name, "secret", secret[:12]))
        if ip_addresses(line):
            leaks.add((name, "address", ""))
        for alias, username in pairs:
            if alias in line and re.search(rf"\b{re.escape(username)}\b", line):
                leaks.add((name, "alias next to account", alias))
    assert not leaks, f"personal data reached the logs: {sorted(leaks)}"


def test_socket_payloads_carry_no_accounts(app, factory, socket_client, db):
    _scene, _membership, payloads = _scripted_session(app, factory, socket_client, db)
    db.session.expire_all()
    # (c) Socket payloads carry public ids and display names, never accounts.
    users = list(db.session.scalars(select(User)))
    usernames = {u.username for u in users}
    secrets = {u.session_token for u in users} | {u.password_hash for u in users}
    public_ids = set(db.session.scalars(select(Membership.public_id)))
    assert len(payloads) > 5
    dump = json.dumps(payloads)
    assert NEW_USER not in dump
    for path, value in _walk(payloads):
        if path.endswith("#key"):
            assert not re.search(r"user|account|username|password|session", str(value), re.I), path
            continue
        if isinstance(value, str):
            assert value not in usernames and value not in secrets, path
        if re.search(r"\.(author|to|me)\.id$|\.present\[\d+\]\.id$", path):
            assert value in public_ids, f"{path} is not a public id: {value!r}"


def test_rate_limit_keys_are_keyed_hashes(app, factory, socket_client, db, redis_prefix):
    _scripted_session(app, factory, socket_client, db)
    # (d) Rate-limit keys are keyed hashes: never the raw address or a username.
    keys = _rate_limit_keys(app, redis_prefix)
    assert keys, "no rate-limit keys were stored"
    assert any(keyed_hash(CLIENT_IP, "ip") in key for key in keys)  # the login/register limits did count
    for key in keys:
        assert CLIENT_IP not in key and not ip_addresses(key), key
        assert NEW_USER not in key, key
