"""The socket edge every feature stands on: the event pipeline (`pipeline.py`, `acks.py`, `loaders.py`,
`payloads.py`), connecting and disconnecting (`connection.py`), rooms (`rooms.py`), storing messages
(`messages.py`), how things look to clients (`describe.py`), the one module that emits (`push.py`), and the
Socket.IO message queue between processes (`queue.py`, `drain.py`).

Chat, moderation and safety import from here, never from each other's events. The presence and rate-limit
stores it reads still live in `chat/stores.py`.
"""
