"""Helpers for socket tests: join a meeting, send, a scene with people in the room, moderator events."""

from __future__ import annotations

from supportgroup.models import Meeting, MeetingState


def received(sio, name):
    """Payloads of the events `name` this client got (the test client unwraps an event named "message")."""
    return [p["args"] if p["name"] == "message" else p["args"][0] for p in sio.get_received() if p["name"] == name]


def join(sio, meeting: Meeting | int, after: int | None = None, expect_ok: bool = True) -> dict:
    """Join `meeting` (a Meeting or its id) with this socket; the ack. With `expect_ok` the join must succeed."""
    payload = {"meeting_id": meeting if isinstance(meeting, int) else meeting.id}
    if after is not None:
        payload["after"] = after
    ack = sio.emit("join", payload, callback=True)
    if expect_ok:
        assert ack["ok"], ack
    return ack


def present_scene(factory, socket_client, state=MeetingState.OPEN):
    """A scene whose peer expert is connected and in the meeting, so participants may write."""
    scene = factory.scene(state)
    scene.expert_socket = socket_client("expert")
    join(scene.expert_socket, scene.meeting)
    scene.expert_socket.get_received()
    return scene


def send(sio, meeting, text="Hello", client_id="client-0001"):
    return sio.emit("send", {"meeting_id": meeting.id, "client_id": client_id, "text": text}, callback=True)


def open_room(factory, socket_client):
    """An open meeting with the peer expert, alice and bob all joined, their queues emptied."""
    scene = present_scene(factory, socket_client)
    scene.alice_socket, scene.bob_socket = socket_client("alice"), socket_client("bob")
    for sio in (scene.alice_socket, scene.bob_socket):
        join(sio, scene.meeting)
    for sio in (scene.alice_socket, scene.bob_socket, scene.expert_socket):
        sio.get_received()
    return scene


def mod(scene, event, **payload):
    """The scene's peer expert sends a moderator event for the scene's meeting."""
    return scene.expert_socket.emit(event, {"meeting_id": scene.meeting.id, **payload}, callback=True)
