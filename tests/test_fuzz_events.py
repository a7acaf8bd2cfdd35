"""Property-based: random payloads at every socket event get a well-formed ack, never a crash.

Each event receives arbitrary JSON-like values, and payloads that look almost right (the real field names
with wrong or extreme values). The answer must always be an ack dict; a refusal must carry a known,
stable error code and a readable message, and never `internal_error`.
"""

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import supportgroup.chat.events  # noqa: F401  (declares the events)
import supportgroup.moderation.events  # noqa: F401
from supportgroup.extensions import socketio
from tests.chat_helpers import join, present_scene

EVENTS = sorted(name for name, *_ in socketio.handlers if name not in ("connect", "disconnect"))
FIELD_NAMES = [
    "meeting_id",
    "client_id",
    "text",
    "after",
    "id",
    "to",
    "member",
    "minutes",
    "reason",
    "seconds",
    "on",
    "locked",
    "report_id",
]
PROTOCOL = (Path(__file__).resolve().parent.parent / "docs/protocol.md").read_text()
DOCUMENTED = set(re.findall(r"^\| `([a-z_]+)` \|", PROTOCOL, re.M))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True)
    | st.text(max_size=50)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=2001, max_size=2100),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=8,
)
near_miss = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6)
payloads = json_values | near_miss


def check_ack(ack):
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        error = ack["error"]
        assert error["code"] != "internal_error", ack
        assert error["code"] in DOCUMENTED, f"undocumented error code {error['code']!r}"
        assert isinstance(error["message"], str) and error["message"]


FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(event=st.sampled_from(EVENTS), payload=payloads)
def test_random_payloads_from_a_participant(fuzz_room, event, payload):
    check_ack(fuzz_room.alice_socket.emit(event, payload, callback=True))


@FUZZ
@given(event=st.sampled_from(EVENTS), payload=near_miss)
def test_random_payloads_from_a_moderator(fuzz_room, event, payload):
    check_ack(fuzz_room.expert_socket.emit(event, payload, callback=True))


@FUZZ
@given(event=st.sampled_from(EVENTS), data=st.data())
def test_real_meeting_with_random_fields(fuzz_room, event, data):
    payload = data.draw(near_miss)
    payload["meeting_id"] = fuzz_room.meeting.id
    check_ack(fuzz_room.alice_socket.emit(event, payload, callback=True))
    check_ack(fuzz_room.expert_socket.emit(event, payload, callback=True))


def test_every_event_is_documented():
    missing = [e for e in EVENTS if f"`{e}`" not in PROTOCOL]
    assert not missing, f"events missing from docs/protocol.md: {missing}"


# One room for all examples of a test (function-scoped fixtures are shared across hypothesis examples).
import pytest  # noqa: E402


@pytest.fixture
def fuzz_room(factory, socket_client, app_overrides):
    scene = present_scene(factory, socket_client)
    scene.alice_socket = socket_client("alice")
    join(scene.alice_socket, scene.meeting)
    return scene


@pytest.fixture
def app_overrides():
    return {"SOCKET_EVENT_RATE_LIMIT": "100000 per minute"}
