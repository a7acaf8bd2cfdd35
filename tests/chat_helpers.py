"""Helpers for socket tests."""
from supportgroup.models import MeetingState


def received(sio, name):
    """Payloads of the events `name` this client got (the test client unwraps an event named "message")."""
    return [p["args"] if p["name"] == "message" else p["args"][0] for p in sio.get_received() if p["name"] == name]


def present_scene(factory, socket_client, state=MeetingState.OPEN):
    """A scene whose peer expert is connected and in the meeting, so participants may write."""
    scene = factory.scene(state)
    scene.expert_socket = socket_client("expert")
    assert scene.expert_socket.emit("join", {"meeting_id": scene.meeting.id}, callback=True)["ok"]
    scene.expert_socket.get_received()
    return scene


def send(sio, meeting, text="Hello", client_id="client-0001"):
    return sio.emit("send", {"meeting_id": meeting.id, "client_id": client_id, "text": text}, callback=True)



def open_room(factory, socket_client):
    """An open meeting with the peer expert, alice and bob all joined, their queues emptied."""
    scene = present_scene(factory, socket_client)
    scene.alice_socket, scene.bob_socket = socket_client("alice"), socket_client("bob")
    for sio in (scene.alice_socket, scene.bob_socket):
        assert sio.emit("join", {"meeting_id": scene.meeting.id}, callback=True)["ok"]
    for sio in (scene.alice_socket, scene.bob_socket, scene.expert_socket):
        sio.get_received()
    return scene


def mod(scene, event, **payload):
    """The scene's peer expert sends a moderator event for the scene's meeting."""
    return scene.expert_socket.emit(event, {"meeting_id": scene.meeting.id, **payload}, callback=True)
