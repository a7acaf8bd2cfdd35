"""Presence (chat/stores.py) on both backends, and the heartbeat round (chat/heartbeat.py).

In Redis an entry counts only while the process holding the socket refreshes it; a process that dies
without running its disconnect handlers must drop out of presence within `PRESENCE_TTL`. A second
`RedisPresence` on the same Redis plays the other process: it writes entries and then never refreshes
them, exactly what a killed process leaves behind.
"""

import time

import pytest
from sqlalchemy import select

from supportgroup.chat.heartbeat import beat
from supportgroup.extensions import db
from supportgroup.models import Membership
from supportgroup.realtime.connections import RedisConnections
from supportgroup.realtime.presence_redis import RedisPresence
from supportgroup.realtime.stores import stores
from tests.chat_helpers import join

SHORT_TTL = 0.6


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


short_ttl = pytest.mark.parametrize("app_overrides", [{"PRESENCE_TTL": SHORT_TTL}], indirect=True)


@pytest.fixture
def presence(app):
    return stores().presence


def other_process(app) -> RedisPresence:
    """Presence as a second server process sees it (same Redis, same prefix, its own sockets)."""
    return RedisPresence(stores().redis, app.config["REDIS_PREFIX"], app.config["PRESENCE_TTL"])


def moderator_membership(scene) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == scene.expert.id)
    )


def received(sio, name):
    return [p["args"][0] for p in sio.get_received() if p["name"] == name]


# --- both backends -------------------------------------------------------------------------------


def test_add_and_read_back(presence):
    presence.add(1, "sid-a", 10)
    presence.add(1, "sid-b", 10)
    presence.add(1, "sid-c", 11, is_moderator=True)
    presence.add(2, "sid-d", 12)
    assert presence.membership_ids(1) == {10, 11}
    assert presence.sids_of(1, 10) == {"sid-a", "sid-b"}
    assert presence.moderator_present(1) and not presence.moderator_present(2)
    assert presence.local_meetings() == {1, 2}
    assert presence.membership_ids(3) == set() and not presence.moderator_present(3)


def test_remove_returns_the_membership_and_forgets_the_socket(presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    presence.add(1, "sid-b", 11)
    assert presence.remove(1, "sid-a") == 10
    assert presence.remove(1, "sid-a") is None
    assert presence.membership_ids(1) == {11}
    assert not presence.moderator_present(1)
    assert presence.remove(1, "sid-b") == 11
    assert presence.local_meetings() == set()


def test_rejoining_as_participant_drops_the_moderator_flag(presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    presence.add(1, "sid-a", 10, is_moderator=False)
    assert not presence.moderator_present(1)
    assert presence.membership_ids(1) == {10}


def test_moderator_present_while_any_moderator_socket_is(presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    presence.add(1, "sid-b", 10, is_moderator=True)
    presence.remove(1, "sid-a")
    assert presence.moderator_present(1)
    presence.remove(1, "sid-b")
    assert not presence.moderator_present(1)


def test_clear_forgets_everything(presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    presence.clear()
    assert presence.membership_ids(1) == set() and presence.local_meetings() == set()
    presence.refresh()  # nothing local is left to write back
    assert presence.membership_ids(1) == set()


def test_connections_track_a_users_sockets(app):
    connections = stores().connections
    connections.add(7, "sid-a")
    connections.add(7, "sid-b")
    connections.add(8, "sid-c")
    connections.remove(7, "sid-a")
    connections.refresh()
    assert connections.sids(7) == {"sid-b"} and connections.sids(8) == {"sid-c"}
    connections.remove(7, "sid-b")
    assert connections.sids(7) == set()


def test_heartbeat_round_reports_moderator_presence_of_local_meetings(presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    presence.add(2, "sid-b", 11)
    assert beat({}) == {1: True, 2: False}


def test_heartbeat_pushes_meeting_state_when_the_moderator_is_gone(factory, socket_client, presence):
    scene = factory.scene()
    alice = socket_client("alice")
    join(alice, scene.meeting)
    expert = moderator_membership(scene)
    presence.add(scene.meeting.id, "expert-sid", expert.id, is_moderator=True)  # no real socket
    seen = beat({})
    assert seen[scene.meeting.id] is True
    alice.get_received()

    presence.remove(scene.meeting.id, "expert-sid")
    assert beat(seen)[scene.meeting.id] is False
    states = received(alice, "meeting_state")
    assert len(states) == 1 and states[0]["moderator_present"] is False
    assert beat({scene.meeting.id: False}) == {scene.meeting.id: False}
    assert received(alice, "meeting_state") == []  # no change, no push


# --- Redis: entries of a dead process expire -----------------------------------------------------
# (scale-out only: in the embedded backend the one process's memory dies with it.)


@pytest.mark.scaleout_only
@short_ttl
def test_entries_of_a_dead_process_expire(app, presence):
    dead = other_process(app)
    dead.add(1, "dead-moderator", 10, is_moderator=True)
    dead.add(1, "dead-participant", 11)
    presence.add(1, "live-participant", 12)
    assert presence.moderator_present(1) and presence.membership_ids(1) == {10, 11, 12}

    deadline = time.monotonic() + SHORT_TTL * 2
    while time.monotonic() < deadline:  # this process keeps beating; the other one died
        presence.refresh()
        time.sleep(SHORT_TTL / 4)
    assert not presence.moderator_present(1)
    assert presence.membership_ids(1) == {12}
    assert presence.sids_of(1, 10) == set()


@pytest.mark.scaleout_only
@short_ttl
def test_refresh_keeps_entries_alive_beyond_the_ttl(app, presence):
    presence.add(1, "sid-a", 10, is_moderator=True)
    for _ in range(4):
        time.sleep(SHORT_TTL / 2)
        presence.proofs.mark("sid-a")  # a moderator's client answers `alive` (chat/alive.py)
        presence.refresh()
    assert presence.moderator_present(1)


@pytest.mark.scaleout_only
def test_an_entry_last_seen_long_ago_does_not_count(app, presence):
    """What a process killed a while ago leaves behind, written directly (default TTL)."""
    prefix = app.config["REDIS_PREFIX"]
    client = stores().redis
    client.hset(f"{prefix}:presence:1", "ghost", "10:m")
    client.zadd(f"{prefix}:presence-seen:1", {"ghost": 1_000})  # 1970
    client.hset(f"{prefix}:presence:1", "unstamped", "11:m")  # no last-seen time at all
    assert not presence.moderator_present(1) and presence.membership_ids(1) == set()


@pytest.mark.scaleout_only
@short_ttl
def test_prune_deletes_dead_entries_once_and_names_the_meeting(app, presence):
    dead = other_process(app)
    dead.add(1, "dead-sid", 10, is_moderator=True)
    presence.add(1, "live-sid", 11)
    presence.add(2, "live-sid-2", 12)
    assert presence.prune() == set()
    time.sleep(SHORT_TTL * 1.5)
    presence.refresh()
    assert presence.prune() == {1}
    assert presence.prune() == set()  # already gone: another process would not report it again
    prefix = app.config["REDIS_PREFIX"]
    assert stores().redis.hkeys(f"{prefix}:presence:1") == ["live-sid"]
    assert stores().redis.zrange(f"{prefix}:presence-seen:1", 0, -1) == ["live-sid"]


@pytest.mark.scaleout_only
@short_ttl
def test_refresh_writes_back_an_entry_pruned_while_its_process_stalled(app, presence):
    presence.add(1, "slow-sid", 10, is_moderator=True)
    time.sleep(SHORT_TTL * 1.5)  # this process missed its heartbeats...
    other = other_process(app)
    other.add(1, "other-sid", 11)
    assert other.prune() == {1}  # ... and a process serving the same meeting deleted its entry
    assert not presence.moderator_present(1)
    presence.proofs.mark("slow-sid")  # its moderator's client answered `alive` meanwhile (chat/alive.py)
    presence.refresh()  # the stalled process is back: its socket is present again
    assert presence.moderator_present(1) and presence.membership_ids(1) == {10, 11}


@pytest.mark.scaleout_only
def test_presence_keys_expire_when_every_process_is_gone(app, presence):
    presence.add(1, "sid-a", 10)
    prefix = app.config["REDIS_PREFIX"]
    for key in (f"{prefix}:presence:1", f"{prefix}:presence-seen:1"):
        assert 0 < stores().redis.ttl(key) <= max(60, 6 * app.config["PRESENCE_TTL"])


@pytest.mark.scaleout_only
def test_connections_of_a_dead_process_are_pruned(app):
    connections = stores().connections
    key = f"{app.config['REDIS_PREFIX']}:user-sockets:7"
    stores().redis.zadd(key, {"dead-sid": 1_000})  # stamped long ago by a process that died
    connections.add(7, "live-sid")
    assert connections.sids(7) == {"live-sid"}
    assert 0 < stores().redis.ttl(key)


@pytest.mark.scaleout_only
def test_connections_of_a_live_process_are_kept(app):
    other = RedisConnections(stores().redis, app.config["REDIS_PREFIX"], app.config["PRESENCE_TTL"])
    other.add(7, "sid-there")
    stores().connections.add(7, "sid-here")
    stores().connections.refresh()
    assert stores().connections.sids(7) == {"sid-there", "sid-here"}


@pytest.mark.scaleout_only
@short_ttl
def test_heartbeat_pushes_state_and_presence_after_the_moderators_process_died(app, factory, socket_client, presence):
    scene = factory.scene()
    meeting_id = scene.meeting.id
    other_process(app).add(meeting_id, "expert-sid-elsewhere", moderator_membership(scene).id, is_moderator=True)
    alice = socket_client("alice")
    join(alice, meeting_id)
    seen = beat({})
    assert seen == {meeting_id: True}
    alice.get_received()

    time.sleep(SHORT_TTL * 1.5)  # the other process was killed: nobody refreshes the expert's socket
    assert beat(seen) == {meeting_id: False}
    received_now = alice.get_received()
    states = [p["args"][0] for p in received_now if p["name"] == "meeting_state"]
    assert [s["moderator_present"] for s in states] == [False]
    present = [p["args"][0]["present"] for p in received_now if p["name"] == "presence"]
    assert present and [p["role"] for p in present[-1]] == ["participant"]
    ack = alice.emit("send", {"meeting_id": meeting_id, "client_id": "client-0001", "text": "hi"}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "no_moderator"
