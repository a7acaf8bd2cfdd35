"""Gap detection (issue #12, docs/protocol.md §7): `sync` from the heartbeat, `catch_up` to fetch what was missed.

In-process tests drive one heartbeat round (`beat`) by hand (the test app starts no heartbeat) and follow the
client rule with a test client: a message stored without any emit (what a crash between commit and emit
leaves) reaches a member who stays connected. The live test restarts Redis under two server processes while
members on the other process follow the same rule: no acknowledged message is lost.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from supportgroup.chat.heartbeat import beat
from supportgroup.extensions import db
from supportgroup.models import Meeting, Membership
from supportgroup.realtime import messages as services
from tests.chat_helpers import join, open_room, received, send


@pytest.fixture
def app_overrides(request) -> dict:
    return getattr(request, "param", {})


def membership_of(scene, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == user.id)
    )


def store_without_emit(scene, user, client_id: str, text: str, **kind) -> int:
    """Insert through the service and commit, and emit nothing: what a crash between commit and emit leaves."""
    meeting = db.session.get(Meeting, scene.meeting.id)
    message = services.post_message(meeting, membership_of(scene, user), client_id, text, **kind)
    seq = message.seq
    db.session.commit()
    return seq


def delete_without_emit(scene, seq: int, by) -> None:
    meeting = db.session.get(Meeting, scene.meeting.id)
    services.delete_message(services.find_message(meeting, seq), membership_of(scene, by))
    db.session.commit()


def catch_up(sio, meeting_id: int, after: int) -> dict:
    return sio.emit("catch_up", {"meeting_id": meeting_id, "after": after}, callback=True)


class Follower:
    """The client rule of docs/protocol.md §7, for a test client: `covered`, `known_deleted`, the shown ids."""

    def __init__(self, sio, meeting_id: int, joined: dict, replay_limit: int):
        self.sio, self.meeting_id, self.replay_limit = sio, meeting_id, replay_limit
        self.covered, self.known_deleted = joined["last_id"], joined["deleted"]
        self.shown = {m["id"]: m for m in joined["messages"]}
        self.catch_ups = 0

    def on_sync(self, sync: dict) -> None:
        if sync["meeting_id"] != self.meeting_id:
            return
        while sync["last_id"] > self.covered or sync["deleted"] != self.known_deleted:
            ack = catch_up(self.sio, self.meeting_id, self.covered)
            assert ack["ok"], ack
            self.catch_ups += 1
            for message in ack["messages"]:
                self.shown.setdefault(message["id"], message)
            for gone in ack["deleted_ids"]:
                self.shown.pop(gone, None)
            self.known_deleted = len(ack["deleted_ids"])
            if len(ack["messages"]) < self.replay_limit:
                self.covered = max(self.covered, ack["last_id"])
            else:
                self.covered = ack["messages"][-1]["id"]
            sync = {**sync, "last_id": max(sync["last_id"], ack["last_id"]), "deleted": len(ack["deleted_ids"])}


def joined_follower(sio, scene, app) -> Follower:
    ack = join(sio, scene.meeting)
    sio.get_received()
    return Follower(sio, scene.meeting.id, ack, app.config["REPLAY_LIMIT"])


def test_a_message_stored_without_an_emit_reaches_connected_members_after_one_heartbeat(app, factory, socket_client):
    scene = open_room(factory, socket_client)
    alice = joined_follower(scene.alice_socket, scene, app)
    bob = joined_follower(scene.bob_socket, scene, app)
    assert send(scene.alice_socket, scene.meeting, "seen live", "live-0001")["ok"]
    scene.alice_socket.get_received(), scene.bob_socket.get_received()

    lost = store_without_emit(scene, scene.bob, "crash-0001", "stored, never emitted")
    whisper = store_without_emit(
        scene,
        scene.expert,
        "crash-0002",
        "only for bob",
        kind="whisper",
        whisper_membership_id=membership_of(scene, scene.bob).id,
    )
    backchannel = store_without_emit(scene, scene.expert, "crash-0003", "moderators only", kind="backchannel")
    gone = store_without_emit(scene, scene.alice, "crash-0004", "deleted before anyone saw it")
    delete_without_emit(scene, gone, scene.alice)
    assert received(scene.alice_socket, "message") == []  # nothing was emitted

    beat({})
    syncs = received(scene.alice_socket, "sync")
    assert syncs == [{"meeting_id": scene.meeting.id, "last_id": gone, "deleted": 1}]
    alice.on_sync(syncs[0])
    assert lost in alice.shown and alice.shown[lost]["text"] == "stored, never emitted"
    assert whisper not in alice.shown and backchannel not in alice.shown and gone not in alice.shown
    assert alice.covered == gone and alice.known_deleted == 1 and alice.catch_ups == 1

    bob.on_sync(received(scene.bob_socket, "sync")[0])
    assert lost in bob.shown and whisper in bob.shown  # the whisper to bob reaches bob
    assert backchannel not in bob.shown and gone not in bob.shown

    expert_syncs = received(scene.expert_socket, "sync")
    assert len(expert_syncs) == 1
    ack = catch_up(scene.expert_socket, scene.meeting.id, 0)
    assert [m["id"] for m in ack["messages"]] == [1, lost, whisper, backchannel]  # moderators see all kinds
    assert ack["deleted_ids"] == [gone] and ack["last_id"] == gone

    beat({})  # nothing new: a client that follows the rule asks nothing
    alice.on_sync(received(scene.alice_socket, "sync")[0])
    assert alice.catch_ups == 1


def test_catch_up_reports_deletions_and_never_held_or_rejected_messages(app, factory, socket_client):
    scene = open_room(factory, socket_client)
    alice = joined_follower(scene.alice_socket, scene, app)
    first = send(scene.bob_socket, scene.meeting, "to be deleted", "bob-00001")["id"]
    held = store_without_emit(
        scene, scene.bob, "held-0001", "held for approval", status="pending", held_reason="premoderation"
    )
    ack = catch_up(scene.alice_socket, scene.meeting.id, 0)
    assert [m["id"] for m in ack["messages"]] == [first] and ack["deleted_ids"] == []
    assert ack["last_id"] == held
    delete_without_emit(scene, first, scene.bob)  # its `message_deleted` lost, as a message can be
    scene.alice_socket.get_received()
    alice.shown[first] = {"id": first}
    beat({})
    sync = received(scene.alice_socket, "sync")[0]
    assert sync["deleted"] == 1
    alice.on_sync(sync)
    assert first not in alice.shown and held not in alice.shown and alice.known_deleted == 1


def test_the_join_ack_says_how_far_the_meeting_has_come(app, factory, socket_client):
    scene = open_room(factory, socket_client)
    for number in range(3):
        assert send(scene.bob_socket, scene.meeting, f"line {number}", f"bob-{number:05d}")["ok"]
    delete_without_emit(scene, 2, scene.bob)
    alice = socket_client("alice")
    ack = join(alice, scene.meeting)
    assert ack["last_id"] == 3 and ack["deleted"] == 1
    replay = join(alice, scene.meeting, after=1)
    assert [m["id"] for m in replay["messages"]] == [3] and replay["last_id"] == 3 and replay["deleted"] == 1


@pytest.mark.parametrize("app_overrides", [{"REPLAY_LIMIT": 2}], indirect=True)
def test_catch_up_comes_in_pages_of_replay_limit(app, factory, socket_client):
    scene = open_room(factory, socket_client)
    alice = joined_follower(scene.alice_socket, scene, app)
    ids = [store_without_emit(scene, scene.bob, f"crash-{n:04d}", f"line {n}") for n in range(5)]
    first = catch_up(scene.alice_socket, scene.meeting.id, 0)
    assert [m["id"] for m in first["messages"]] == ids[:2] and first["last_id"] == ids[-1]
    beat({})
    alice.on_sync(received(scene.alice_socket, "sync")[0])
    assert sorted(alice.shown) == ids and alice.covered == ids[-1] and alice.catch_ups == 3


def test_catch_up_needs_a_joined_socket_and_membership(app, factory, socket_client):
    scene = open_room(factory, socket_client)
    store_without_emit(scene, scene.bob, "crash-0001", "a line")
    newcomer = socket_client("alice")  # connected, not joined
    ack = catch_up(newcomer, scene.meeting.id, 0)
    assert ack["ok"] is False and ack["error"]["code"] == "not_joined"
    eve = socket_client("eve")  # not in the group: the answer a missing meeting gets
    assert catch_up(eve, scene.meeting.id, 0)["error"]["code"] == "meeting_not_found"
    assert catch_up(eve, 999999, 0)["error"]["code"] == "meeting_not_found"
    beat({})
    assert received(newcomer, "sync") == [] and received(eve, "sync") == []  # only joined sockets hear it


def test_a_moderator_catch_up_recovers_what_only_moderators_receive(app, factory, socket_client):
    """`pending`, `alert` and `report` lost on the way (here: never emitted) reach a connected moderator through
    `catch_up`'s moderation snapshot; a report allocates no message id, so a `sync` alone does not reveal it."""
    from supportgroup.realtime.messages import find_message, report_message
    from supportgroup.safety.services import record_alerts, resolve_alert

    scene = open_room(factory, socket_client)
    first = send(scene.bob_socket, scene.meeting, "a visible line", "bob-00001")["id"]
    ack = join(scene.expert_socket, scene.meeting)
    assert ack["moderation"]["pending"] == [] and ack["moderation"]["alerts"] == []
    expert = Follower(scene.expert_socket, scene.meeting.id, ack, app.config["REPLAY_LIMIT"])
    scene.expert_socket.get_received()

    held = store_without_emit(
        scene, scene.bob, "held-0001", "held for approval", status="pending", held_reason="premoderation"
    )
    meeting = db.session.get(Meeting, scene.meeting.id)
    alert = record_alerts(find_message(meeting, first), ["danger"])[0].id
    report = report_message(find_message(meeting, first), membership_of(scene, scene.alice), "unkind").id
    db.session.commit()
    assert received(scene.expert_socket, "pending") == [] and received(scene.expert_socket, "report") == []

    beat({})
    sync = received(scene.expert_socket, "sync")[0]
    assert sync["last_id"] == held > expert.covered  # the held message moved last_id: the rule asks
    reply = catch_up(scene.expert_socket, scene.meeting.id, expert.covered)
    assert reply["ok"] and reply["messages"] == [] and reply["last_id"] == held  # held: never a `message`
    moderation = reply["moderation"]
    assert [m["id"] for m in moderation["pending"]] == [held]
    assert moderation["pending"][0]["held_reason"] == "premoderation"
    assert [a["id"] for a in moderation["alerts"]] == [alert]
    assert [r["id"] for r in moderation["reports"]] == [report]
    assert set(moderation) == {"pending", "reports", "waiting", "alerts", "handover", "muted"}  # the join ack's shape
    expert.on_sync(sync)

    resolve_alert(db.session.get(Meeting, scene.meeting.id), alert, membership_of(scene, scene.expert))
    db.session.commit()  # no message id: the client's every-Nth-sync catch_up (docs/protocol.md §7) finds it
    beat({})
    assert received(scene.expert_socket, "sync")[0]["last_id"] == expert.covered
    assert catch_up(scene.expert_socket, scene.meeting.id, expert.covered)["moderation"]["alerts"] == []

    # Participants get no moderation snapshot.
    assert "moderation" not in catch_up(scene.alice_socket, scene.meeting.id, 0)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"meeting_id": 1},
        {"after": 0},
        {"meeting_id": 0, "after": 0},
        {"meeting_id": 1, "after": -1},
        {"meeting_id": 1, "after": 2**31},
        {"meeting_id": 1, "after": "5"},
        {"meeting_id": 1, "after": True},
        {"meeting_id": 1, "after": 1.5},
        {"meeting_id": 1, "after": 0, "extra": 1},
    ],
)
def test_catch_up_refuses_malformed_payloads(app, factory, socket_client, payload):
    scene = open_room(factory, socket_client)
    if isinstance(payload, dict) and "meeting_id" in payload and payload["meeting_id"] == 1:
        payload = {**payload, "meeting_id": scene.meeting.id}
    ack = scene.alice_socket.emit("catch_up", payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload", ack


# --- live: a Redis restart under two server processes --------------------------------------------------------

from tests.test_redis_restart import OUTAGE, Sender, connect, own_redis, servers_on_own_redis  # noqa: E402,F401


class LiveFollower:
    """A python-socketio client on a live server that follows the client rule (docs/protocol.md §7).

    Events arrive on the client's reader thread, which must not wait for an ack: `sync` is handled on a
    worker thread of its own. `shown`: id -> monotonic time it was first shown (live or by `catch_up`)."""

    def __init__(self, sock, meeting_id: int):
        self.sock, self.meeting_id = sock, meeting_id
        self.shown: dict[int, float] = {}
        self.live_repeats = 0  # a `message` whose id was shown already (dropped, as the rule says)
        self.catch_ups = 0
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        joined = sock.call("join", {"meeting_id": meeting_id})
        assert joined["ok"], joined
        self.covered, self.known_deleted = joined["last_id"], joined["deleted"]
        self.latest = {"last_id": joined["last_id"], "deleted": joined["deleted"]}
        self._show(m["id"] for m in joined["messages"])
        sock.client.on("message", self._on_message)
        sock.client.on("sync", self._on_sync)
        self.worker = threading.Thread(target=self._run, daemon=True)
        self.worker.start()

    def _show(self, ids, live: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            for message_id in ids:
                if message_id in self.shown:
                    self.live_repeats += live
                else:
                    self.shown[message_id] = now

    def _on_message(self, data) -> None:
        if data.get("meeting_id") == self.meeting_id:
            self._show([data["id"]], live=True)

    def _on_sync(self, data) -> None:
        if data.get("meeting_id") == self.meeting_id:
            self.latest = data
            self.wake.set()

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.wake.wait(0.2):
                continue
            self.wake.clear()
            while self.latest["last_id"] > self.covered or self.latest["deleted"] != self.known_deleted:
                try:
                    ack = self.sock.call("catch_up", {"meeting_id": self.meeting_id, "after": self.covered}, timeout=5)
                except Exception:  # no answer: the next sync asks again
                    break
                if not ack.get("ok"):
                    break
                self.catch_ups += 1
                self._show(m["id"] for m in ack["messages"])
                self.known_deleted = len(ack["deleted_ids"])
                if len(ack["messages"]) < 1000:
                    self.covered = max(self.covered, ack["last_id"])
                else:
                    self.covered = ack["messages"][-1]["id"]


@pytest.mark.live
@pytest.mark.scaleout_only
def test_no_acknowledged_message_is_lost_to_connected_members_across_a_redis_restart(
    factory, servers_on_own_redis, sockets, own_redis
):
    scene = factory.scene()
    for name in ("carol", "dave"):
        factory.member(scene.group, factory.user(name))
    meeting_id = scene.meeting.id
    first, second = servers_on_own_redis(), servers_on_own_redis()
    expert, alice = connect(first, "expert", sockets), connect(first, "alice", sockets)  # the senders, on A
    for sock in (expert, alice):
        assert sock.call("join", {"meeting_id": meeting_id})["ok"]
    followers = {name: LiveFollower(connect(second, name, sockets), meeting_id) for name in ("bob", "carol", "dave")}
    senders = [Sender(expert, meeting_id, "expert"), Sender(alice, meeting_id, "alice")]
    for sender in senders:
        sender.start()
    time.sleep(1.0)  # steady chat before the fault
    down_at = own_redis.kill()
    time.sleep(OUTAGE)  # the outage itself: Redis is really away
    up_at = own_redis.start()
    time.sleep(3.0)  # chat on after the restart
    for sender in senders:
        sender.stop.set()
        sender.join(timeout=5)
    acked = {ack["id"]: sent for sender in senders for sent, _answered, ack in sender.records if ack and ack["ok"]}
    deadline = time.monotonic() + 10  # a clock of other processes (their heartbeat): poll it
    while time.monotonic() < deadline and not all(set(acked) <= set(f.shown) for f in followers.values()):
        time.sleep(0.05)
    for follower in followers.values():
        follower.stop.set()

    sent = sum(len(sender.records) for sender in senders)
    lost = {name: sorted(set(acked) - set(f.shown)) for name, f in followers.items()}
    repeats = sum(f.live_repeats for f in followers.values())
    around_outage = [i for i, t in acked.items() if down_at - 1 <= t <= up_at + 1]
    recovery = max((f.shown[i] - up_at for f in followers.values() for i in around_outage if i in f.shown), default=0.0)
    print(
        f"\nFIGURES gap detection across a {up_at - down_at:.1f}s Redis restart: sent {sent}, acked {len(acked)}, "
        f"lost {sum(map(len, lost.values()))}, duplicated 0 (live repeats dropped: {repeats}), catch_ups "
        f"{sum(f.catch_ups for f in followers.values())}, last message of the outage shown "
        f"{max(recovery, 0.0):.2f}s after Redis was back"
    )
    assert acked and all(not ids for ids in lost.values()), lost
    for follower in followers.values():
        assert len(follower.shown) == len(set(follower.shown))  # each id shown once
