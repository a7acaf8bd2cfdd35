"""The chat's hot path (issue #7): one SQL statement per message at steady state on PostgreSQL (two on SQLite,
whose CTEs cannot hold the counter UPDATE), while every rule
still takes effect from the next message on, because a cached answer is dropped the moment anything it was
read from changes (supportgroup/chat/rights.py)."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, update

from supportgroup.models import Membership, MembershipStatus, Mute

from .chat_helpers import mod, open_room, send
from .conftest import is_savepoint


@contextmanager
def statements_of(db):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if not is_savepoint(statement):
            seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def room(factory, socket_client):
    """alice, bob and the peer expert in an open meeting; alice has sent once (her answer is cached)."""
    scene = open_room(factory, socket_client)
    assert send(scene.alice_socket, scene.meeting, "warm", "warm-0001")["ok"]
    return scene


def per_message(db) -> int:
    """Statements one chat message costs at steady state."""
    return 1 if db.engine.dialect.name == "postgresql" else 2


def alice_sends(room, n: int):
    return send(room.alice_socket, room.meeting, f"message {n}", f"alice-{n:04d}")


def test_a_chat_message_costs_one_statement_on_postgresql(room, db):
    with statements_of(db) as seen:
        for n in range(8):
            assert alice_sends(room, n)["ok"]
    assert len(seen) == 8 * per_message(db), seen[:6]
    starts = (
        ("WITH counter AS (UPDATE meetings SET last_message_seq",)
        if per_message(db) == 1
        else ("UPDATE meetings SET last_message_seq", "INSERT INTO messages")
    )
    assert all(s.startswith(starts) for s in seen), seen


def test_the_first_message_after_joining_reuses_what_the_join_read(factory, socket_client, db):
    """`join` reads the same rules a message needs: its answer is kept, so the first message is no dearer."""
    scene = open_room(factory, socket_client)
    with statements_of(db) as seen:
        assert send(scene.alice_socket, scene.meeting, "first", "first-0001")["ok"]
        assert send(scene.expert_socket, scene.meeting, "welcome", "first-0002")["ok"]
    assert len(seen) == 2 * per_message(db), seen


def test_a_moderators_message_costs_the_same(room, db):
    assert send(room.expert_socket, room.meeting, "welcome", "expert-0000")["ok"]
    with statements_of(db) as seen:
        for n in range(1, 6):
            assert send(room.expert_socket, room.meeting, f"note {n}", f"expert-{n:04d}")["ok"]
    assert len(seen) == 5 * per_message(db), seen[:6]


def test_a_retry_is_answered_with_the_stored_message(room):
    first = alice_sends(room, 1)
    again = alice_sends(room, 1)
    assert again["duplicate"] and again["id"] == first["id"]


def test_a_mute_applies_to_the_next_message(room):
    assert mod(room, "mute", member=room.memberships["alice"].public_id, reason="pause")["ok"]
    assert alice_sends(room, 1)["error"]["code"] == "muted"


def test_an_unmute_by_bulk_update_applies_to_the_next_message(room):
    assert mod(room, "mute", member=room.memberships["alice"].public_id, reason="pause")["ok"]
    assert alice_sends(room, 1)["error"]["code"] == "muted"
    assert mod(room, "unmute", member=room.memberships["alice"].public_id)["ok"]  # an UPDATE of mutes
    assert alice_sends(room, 2)["ok"]


@pytest.mark.parametrize(
    "event_name, payload, code",
    [
        ("set_floor_only", {"on": True}, "floor_only"),
        ("close", {}, "meeting_not_open"),
    ],
)
def test_meeting_settings_apply_to_the_next_message(room, event_name, payload, code):
    assert mod(room, event_name, **payload)["ok"]
    assert alice_sends(room, 1)["error"]["code"] == code


def test_slow_mode_applies_to_the_next_message(room):
    assert mod(room, "set_slow_mode", seconds=60)["ok"]
    assert alice_sends(room, 1)["error"]["code"] == "slow_mode"  # she wrote "warm" a moment ago


def test_premoderation_holds_the_next_message(room):
    assert mod(room, "set_premoderation", on=True)["ok"]
    ack = alice_sends(room, 1)
    assert ack["ok"] and ack["status"] == "pending" and ack["held_reason"] == "premoderation"


def test_group_settings_changed_elsewhere_apply_to_the_next_message(room, db):
    room.group.hold_identifying = True  # e.g. a coordinator's settings page, in another request
    db.session.commit()
    ack = send(room.alice_socket, room.meeting, "bel me op 06-12345678", "alice-phone")
    assert ack["ok"] and ack["held_reason"] == "identifying_details"


def test_a_ban_written_elsewhere_applies_to_the_next_message(room, db):
    membership = db.session.get(Membership, room.memberships["alice"].id)
    membership.status = MembershipStatus.BANNED
    db.session.commit()
    assert alice_sends(room, 1)["error"]["code"] == "banned"


@pytest.mark.parametrize("change", ["disable", "rotate_token"])
def test_account_changes_apply_to_the_next_message(room, db, change):
    """A disabled account, or a logout / password change elsewhere (a new session token), posts nothing more."""
    user = db.session.get(type(room.alice), room.alice.id)
    if change == "disable":
        user.is_enabled = False
    else:
        user.rotate_session_token()
    db.session.commit()
    assert alice_sends(room, 1)["error"]["code"] == "not_authenticated"


def test_a_bulk_statement_on_a_rules_table_drops_every_cached_answer(room, db):
    db.session.execute(update(Mute).where(Mute.id == -1).values(reason="none"))  # touches no row, still counts
    db.session.commit()
    with statements_of(db) as seen:
        assert alice_sends(room, 1)["ok"]
    assert len(seen) > per_message(db)  # the answer was read again from the database


def test_lost_epochs_reload_rather_than_trust_the_cache(room, app, db):
    """After a Redis restart (it keeps nothing on disk) the tokens are new: every socket reloads its answer."""
    stores = app.extensions["chat_stores"]
    if stores.redis is not None:
        stores.redis.delete(*stores.redis.keys(f"{app.config['REDIS_PREFIX']}:epoch:*"))
    else:
        stores.epochs._tokens.clear()
    with statements_of(db) as seen:
        assert alice_sends(room, 1)["ok"]
    assert len(seen) > per_message(db)


@contextmanager
def redis_round_trips():
    """Commands sent to Redis (a pipeline or a script is one)."""
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = send_packed_command
    try:
        yield sent
    finally:
        redis.connection.AbstractConnection.send_packed_command = original


@pytest.mark.scaleout_only  # the embedded backend keeps these in memory: no Redis to count
def test_a_chat_message_costs_one_redis_round_trip(room, app):
    """The event's count, the kept answer's epochs and moderator presence come back in one script call
    (the broadcast's PUBLISH comes on top in a served process; the test client has no message queue)."""
    with redis_round_trips() as sent:
        for n in range(5):
            assert alice_sends(room, n)["ok"]
    assert len(sent) == 5


def test_the_peer_expert_leaving_stops_participants_at_once(room):
    """Presence is not cached: it is read with every participant's message."""
    room.expert_socket.disconnect()
    refused = alice_sends(room, 1)
    assert refused["ok"] is False and refused["error"]["code"] == "no_moderator"


def test_malformed_messages_count_against_the_budget(factory, socket_client, app):
    app.extensions["chat_stores"].gate._windows.windows = [(4, 60)]  # 4 events a minute for this test
    scene = open_room(factory, socket_client)  # alice joined: 1 event
    bad = [
        scene.alice_socket.emit("send", {"meeting_id": scene.meeting.id, "client_id": "", "text": ""}, callback=True)
        for _ in range(4)
    ]
    assert [a["error"]["code"] for a in bad] == ["invalid_payload"] * 3 + ["rate_limited"]
    assert send(scene.alice_socket, scene.meeting, "now", "late-0001")["error"]["code"] == "rate_limited"


def test_a_mute_in_one_meeting_leaves_other_meetings_their_kept_rights(room, factory, socket_client, db):
    """Scoped invalidation: a mute (and the lifting of older mutes it runs, a bulk UPDATE) replaces its own
    meeting's epoch only. bob, writing in another meeting of the group, keeps his answer (no re-read)."""
    other = factory.meeting(room.group, title="Another meeting")
    expert_b, bob_b = socket_client("expert"), socket_client("bob")
    for sio in (expert_b, bob_b):
        assert sio.emit("join", {"meeting_id": other.id}, callback=True)["ok"]
    assert send(bob_b, other, "warm", "bob-b-0000")["ok"]  # bob's answer in meeting B is kept

    assert mod(room, "mute", member=room.memberships["alice"].public_id, reason="pause")["ok"]  # meeting A
    with statements_of(db) as seen:
        assert send(bob_b, other, "still here", "bob-b-0001")["ok"]
    assert len(seen) == per_message(db), seen  # no rule read again
    assert alice_sends(room, 1)["error"]["code"] == "muted"  # A's muted participant: refused at once


def test_a_bulk_statement_that_names_its_scopes_drops_only_theirs(room, factory, socket_client, db):
    """`rule_scopes.touching`: a bulk statement on a rules table that names its meeting replaces that epoch only."""
    from supportgroup import rule_scopes

    other = factory.meeting(room.group, title="Another meeting")
    expert_b, bob_b = socket_client("expert"), socket_client("bob")
    for sio in (expert_b, bob_b):
        assert sio.emit("join", {"meeting_id": other.id}, callback=True)["ok"]
    assert send(bob_b, other, "warm", "bob-b-0000")["ok"]
    db.session.execute(
        update(Mute).where(Mute.meeting_id == room.meeting.id).values(reason="none"),
        execution_options=rule_scopes.touching(meetings=[room.meeting.id]),
    )
    db.session.commit()
    db.session.refresh(other)  # the test's own reload of the expired row is not the socket's
    with statements_of(db) as seen:
        assert send(bob_b, other, "unchanged", "bob-b-0001")["ok"]
    assert len(seen) == per_message(db), seen
    with statements_of(db) as seen:
        assert alice_sends(room, 1)["ok"]
    assert len(seen) > per_message(db)  # meeting A's answers were read again
