"""The socket edge shared by features. So far: the Socket.IO message queue between processes (`queue.py`).

DESIGN.md plans the event pipeline, rooms, presence and push here too; they still live in `chat/`.
"""
