"""The socket edge every feature stands on: the event pipeline (`pipeline.py`, `acks.py`, `loaders.py`,
`payloads.py`), connecting and disconnecting (`connection.py`), rooms (`rooms.py`), storing messages
(`messages.py`), how things look to clients (`describe.py`), the one module that emits (`push.py`), and the
Socket.IO message queue between processes (`queue.py`, `drain.py`).

The shared state of the socket edge lives here too: presence, the event budget gate, epochs and connections
(`stores.py` builds them per backend) and the sockets' activity stamps for the idle timeout (`activity.py`).
Chat, moderation and safety import from here, never from each other's events; this package imports no feature.
"""
