"""What a serving process (serve.py, or wsgi.py under gunicorn) does once, after `create_app`."""

from __future__ import annotations

import gc

from flask import Flask

from .chat.heartbeat import start_heartbeat
from .realtime.queue import start_listener
from .safety.retention import start_purge_job
from .scheduling.horizon import start_horizon_job
from .tcp_bounds import bound_websocket_close


def start_serving(app: Flask) -> None:
    start_listener(app)  # subscribes to the Socket.IO queue now, not at the first connection (readiness)
    start_heartbeat(app)  # keeps this process's presence alive in Redis (a greenlet)
    start_purge_job(app)  # hard-deletes chat past its retention period, hourly (PURGE_INTERVAL_MINUTES)
    start_horizon_job(app)  # keeps open-ended series planned 26 weeks ahead, hourly (HORIZON_INTERVAL_MINUTES)
    bound_websocket_close()
    tune_gc(app)


def tune_gc(app: Flask) -> None:
    """Make the garbage collector's pauses rare and short: they, not the CPU, set the chat's p99 latency.

    With Python's default thresholds (a young collection every 700 allocations) a server holding a thousand
    sockets promotes the objects of every request in flight to the old generation, and full collections of a
    heap of a few hundred thousand objects ran every few seconds for 170-225 ms, stalling every greenlet
    (measured under the benchmark's load, docs/benchmarks.md). So: freeze what exists after start-up (modules,
    mappers, compiled statements: never garbage, never scanned again) and collect the young generation every
    `GC_GEN0_THRESHOLD` allocations instead, so that a request's objects die of their reference count
    before a collection sees them. 0 keeps Python's defaults.
    """
    threshold = int(app.config["GC_GEN0_THRESHOLD"])
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)
