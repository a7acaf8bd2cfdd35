"""Deleted means gone from the database files, not only from view (issue #11).

Every path that deletes or hides chat text (a moderator's or the author's delete, a rejected held message, a
whisper or backchannel line, an erased account, the retention purge) is followed by a search of the
database's raw bytes for the text: on SQLite the database file and its `-wal`; on PostgreSQL the files of
every table, TOAST table and index (after a CHECKPOINT writes the shared buffers out).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from supportgroup.models import Incident, MeetingState, Message, utcnow
from supportgroup.safety import scrub
from tests.chat_helpers import join, mod, open_room, received, send
from tests.conftest import DEFAULT_PASSWORD, csrf_token

pytestmark = pytest.mark.committed  # searches the database files: the rows must really be committed


def _secret() -> str:
    return f"secret-{uuid.uuid4().hex}"


def database_files(db) -> list[Path]:
    """The files that hold the database's rows (skips on PostgreSQL when its data directory is not readable)."""
    engine = db.engine
    db.session.commit()  # no read transaction of ours may hold a snapshot open
    if engine.dialect.name == "sqlite":
        # The checkpoint runs in a background task after the commit (scrub.Checkpointer): wait for it.
        assert scrub.wait_for_checkpoints(engine)
        main = Path(engine.url.database)
        return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-journal")) if p.exists()]
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))  # the shared buffers, written to the files we read
        data_dir = Path(conn.execute(text("SHOW data_directory")).scalar())
        relations = (
            conn.execute(
                text(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't', 'i') "
                    "AND pg_relation_filepath(c.oid) IS NOT NULL"
                )
            )
            .scalars()
            .all()
        )
        conn.rollback()
    try:
        base = [data_dir / r for r in relations]
        files = [p for b in base for p in [b, *sorted(b.parent.glob(b.name + ".*"))] if p.exists()]
    except PermissionError:
        pytest.skip("PostgreSQL's data directory is not readable here")
    if not files:
        pytest.skip("PostgreSQL's data directory is not readable here")
    return files


def assert_not_in_files(db, secret: str) -> int:
    """The secret is in none of the database's files. Returns the number of bytes searched."""
    needle = secret.encode()
    searched = 0
    for path in database_files(db):
        data = path.read_bytes()
        searched += len(data)
        assert needle not in data, f"{secret!r} is still in {path.name}"
    return searched


def assert_in_files(db, secret: str) -> None:
    """Sanity check of the search itself: the text was in the files before it was deleted."""
    needle = secret.encode()
    assert any(needle in p.read_bytes() for p in database_files(db)), "the search does not find stored text"


def stored_texts(db) -> list[str]:
    db.session.commit()
    return list(db.session.execute(text("SELECT text FROM messages")).scalars())


def purge_command(runner) -> None:
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def room(factory, socket_client):
    return open_room(factory, socket_client)


def _delete_by_moderator(room, secret):
    sent = send(room.alice_socket, room.meeting, secret, "gone-0001")
    return sent, mod(room, "delete_message", id=sent["id"])


def _delete_by_author(room, secret):
    sent = send(room.alice_socket, room.meeting, secret, "gone-0002")
    return sent, room.alice_socket.emit(
        "delete_message", {"meeting_id": room.meeting.id, "id": sent["id"]}, callback=True
    )


def _reject_held(room, secret):
    assert mod(room, "set_premoderation", on=True)["ok"]
    sent = send(room.alice_socket, room.meeting, secret, "gone-0003")
    assert sent["status"] == "pending"
    return sent, mod(room, "reject", id=sent["id"], reason="off topic")


def _delete_whisper(room, secret):
    sent = room.alice_socket.emit(
        "whisper", {"meeting_id": room.meeting.id, "client_id": "gone-0004", "text": secret}, callback=True
    )
    assert sent["ok"]
    return sent, room.alice_socket.emit(
        "delete_message", {"meeting_id": room.meeting.id, "id": sent["id"]}, callback=True
    )


def _delete_backchannel(room, secret):
    sent = mod(room, "backchannel", client_id="gone-0005", text=secret)
    assert sent["ok"]
    return sent, mod(room, "delete_message", id=sent["id"])


@pytest.mark.parametrize(
    "remove",
    [_delete_by_moderator, _delete_by_author, _reject_held, _delete_whisper, _delete_backchannel],
    ids=["moderator-delete", "author-delete", "reject", "whisper", "backchannel"],
)
def test_hidden_text_is_gone_from_the_database_at_once(room, db, runner, socket_client, remove):
    secret = _secret()
    keep = send(room.bob_socket, room.meeting, "this one stays", "keep-0001")
    assert_in_files(db, "this one stays")
    sent, done = remove(room, secret)
    assert done["ok"], done

    assert secret not in " ".join(stored_texts(db))  # the row keeps its id (replays skip it), not its text
    assert "this one stays" in stored_texts(db)
    if db.engine.dialect.name == "sqlite":
        searched = assert_not_in_files(db, secret)  # at once: the commit's checkpoint emptied the -wal
        print(f"\n[{remove.__name__} sqlite] {searched} bytes searched")
    purge_command(runner)  # PostgreSQL: the purge's VACUUM removes the old row version from the files
    searched = assert_not_in_files(db, secret)
    print(f"\n[{remove.__name__} {db.engine.dialect.name}] after purge: {searched} bytes searched")

    late = socket_client("bob")
    replay = join(late, room.meeting, after=0)["messages"]
    assert sent["id"] not in [m["id"] for m in replay] and keep["id"] in [m["id"] for m in replay]


def test_an_incident_snapshot_made_before_the_delete_keeps_its_copy(room, db):
    secret = _secret()
    sent = send(room.alice_socket, room.meeting, secret, "gone-0006")
    assert mod(room, "record_incident", ids=[sent["id"]], note="threat")["ok"]
    assert mod(room, "delete_message", id=sent["id"])["ok"]
    assert secret not in " ".join(stored_texts(db))
    assert db.session.query(Incident).one().snapshot[0]["text"] == secret  # the safeguarding record
    # An incident recorded after the delete has nothing left to copy.
    assert mod(room, "record_incident", ids=[sent["id"]], note="later")["ok"]
    later = db.session.query(Incident).order_by(Incident.id.desc()).first()
    assert later.snapshot[0]["text"] == "" and later.snapshot[0]["deleted"] is True
    assert received(room.bob_socket, "message_deleted")


def test_a_retry_of_a_deleted_message_does_not_bring_it_back(room, db):
    secret = _secret()
    sent, done = _delete_by_author(room, secret)
    assert done["ok"]
    again = send(room.alice_socket, room.meeting, secret, "gone-0002")  # the same client id
    assert again["ok"] and again["id"] == sent["id"]
    assert secret not in " ".join(stored_texts(db))


def test_erased_account_leaves_no_text_in_the_files(room, db, login_client, runner):
    secret = _secret()
    assert send(room.alice_socket, room.meeting, secret, "gone-0007")["ok"]
    room.alice_socket.disconnect()
    http = login_client("alice")
    token = csrf_token(http, "/account/erase")
    response = http.post("/account/erase", data={"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert secret not in " ".join(stored_texts(db))
    if db.engine.dialect.name == "sqlite":
        assert_not_in_files(db, secret)
    purge_command(runner)
    assert_not_in_files(db, secret)


def test_purge_leaves_no_text_in_the_files(factory, db, runner):
    scene = factory.scene(MeetingState.CLOSED)
    meeting = factory.meeting(scene.group, MeetingState.CLOSED)
    meeting.closed_at = utcnow() - timedelta(days=31)
    meeting.starts_at = meeting.closed_at - timedelta(hours=2)
    secrets_ = [_secret() for _ in range(3)]
    long_secret = f"{_secret()} {secrets.token_urlsafe(3000)}"  # incompressible: stored out of line (TOAST)
    for seq, body in enumerate([*secrets_, long_secret], start=1):
        db.session.add(
            Message(
                meeting_id=meeting.id,
                seq=seq,
                author_membership_id=scene.memberships["alice"].id,
                client_id=f"purge-{seq}",
                text=body,
            )
        )
    db.session.commit()
    assert_in_files(db, secrets_[0])
    pieces = [long_secret[i : i + 32] for i in range(0, len(long_secret) - 32, 400)]  # TOAST splits it in chunks
    assert sum(any(p.encode() in f.read_bytes() for f in database_files(db)) for p in pieces) > len(pieces) // 2

    purge_command(runner)

    assert stored_texts(db) == []
    searched = 0
    for body in [*secrets_, *pieces]:
        searched = assert_not_in_files(db, body)
    print(f"\n[purge {db.engine.dialect.name}] {searched} bytes searched per text")


@pytest.mark.live
def test_a_delete_in_the_real_server_leaves_no_text_in_the_files(factory, db, runner, live_servers, sockets):
    """The same through `serve.py` (gevent: the checkpoint waits cooperatively)."""
    scene = factory.scene()
    meeting_id = scene.meeting.id
    db.session.commit()
    server = live_servers()
    expert = sockets(server.socket(server.login("expert", DEFAULT_PASSWORD)))
    alice = sockets(server.socket(server.login("alice", DEFAULT_PASSWORD)))
    for sock in (expert, alice):
        assert sock.call("join", {"meeting_id": meeting_id})["ok"]
    secret = _secret()
    sent = alice.call("send", {"meeting_id": meeting_id, "client_id": "live-gone-1", "text": secret})
    assert sent["ok"]
    assert_in_files(db, secret)
    assert expert.call("delete_message", {"meeting_id": meeting_id, "id": sent["id"]})["ok"]
    assert secret not in " ".join(stored_texts(db))
    if db.engine.dialect.name == "sqlite":
        assert_not_in_files(db, secret)
    purge_command(runner)
    assert_not_in_files(db, secret)
