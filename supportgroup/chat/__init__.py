"""The live chat: the meeting page, socket events, presence and replay."""
