"""The baseline: a bare Flask-SocketIO broadcast server, to compare the app with (`make bench`).

Same server as the app (`serve.py`'s gevent pywsgi server with TCP_NODELAY), same async mode (gevent),
same event names and payload shapes (`join` -> join the room and acknowledge; `send` -> emit `message` to
the room, acknowledge with `{ok, id}`), the same same-origin check and packet limit. Nothing else: no
authentication, no database, no Redis, no validation, no replay (a `join` with `after` replays nothing).

    HOST=127.0.0.1 PORT=5099 python bench/baseline_server.py
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

from serve import serve  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="gevent",
    max_http_buffer_size=16 * 1024,
    cors_allowed_origins=None,
    logger=False,
    engineio_logger=False,
)
last_id: dict[int, int] = defaultdict(int)
# What the app's Message carries besides id, meeting, client id and text: the same shape and about the same size.
AUTHOR = {"id": "baselineAuthor00", "name": "Quiet Heron", "role": "participant"}


def room(meeting_id) -> str:
    return f"meeting:{int(meeting_id)}"


@socketio.on("join")
def join(data):
    join_room(room(data["meeting_id"]))
    return {"ok": True, "messages": []}


@socketio.on("send")
def send(data):
    meeting_id = int(data["meeting_id"])
    last_id[meeting_id] += 1
    message_id = last_id[meeting_id]
    socketio.emit(
        "message",
        {
            "id": message_id,
            "meeting_id": meeting_id,
            "client_id": data["client_id"],
            "author": AUTHOR,
            "text": data["text"],
            "created_at": datetime.now(UTC).isoformat(),
            "kind": "chat",
        },
        to=room(meeting_id),
    )
    return {"ok": True, "id": message_id, "client_id": data["client_id"], "duplicate": False, "status": "visible"}


def main() -> None:
    serve(app, 5099, "baseline", "gevent")


if __name__ == "__main__":
    main()
