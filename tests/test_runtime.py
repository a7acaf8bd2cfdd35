"""What a serving process does at start: the garbage collector tuned so that its pauses stay short."""

import gc

from supportgroup.runtime import tune_gc


def test_serving_processes_freeze_the_startup_heap_and_collect_less_often(app):
    before = gc.get_threshold()
    try:
        tune_gc(app)
        assert gc.get_threshold() == (app.config["GC_GEN0_THRESHOLD"], before[1], before[2])
        assert gc.get_freeze_count() > 0  # start-up objects are never scanned again
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_threshold_of_zero_keeps_pythons_defaults(app):
    app.config["GC_GEN0_THRESHOLD"] = 0
    before = gc.get_threshold()
    tune_gc(app)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_socket_events_leave_no_tracebacks_for_the_collector(factory, socket_client):
    """Each event runs in a request context; one that failed to route kept a NotFound with its traceback:
    about sixty objects per event that only the garbage collector could free, and whose collection paused
    every greenlet (a WebSocket's events failed with WebsocketMismatch, polling ones with NotFound). What is
    left is a closure Werkzeug's router makes for itself (a handful of objects, no frames)."""
    from tests.chat_helpers import open_room, send

    scene = open_room(factory, socket_client)
    warm = send(scene.alice_socket, scene.meeting, "warm", "gc-warm-0001")
    assert warm["ok"], warm
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for n in range(10):  # the default event budget is 20 per 10 seconds
            assert send(scene.alice_socket, scene.meeting, f"line {n}", f"gc-line-{n:04d}")["ok"]
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    kinds = {type(o).__name__ for o in garbage}
    assert not kinds & {"frame", "traceback", "RequestContext", "Request", "NotFound", "WebsocketMismatch"}, kinds
