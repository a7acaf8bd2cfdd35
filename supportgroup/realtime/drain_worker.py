"""gunicorn's gevent worker, with bounded connections and a drain on SIGTERM (deploy/gunicorn.conf.py).

The stock `GeventWorker` on SIGTERM closes its listener and then waits `graceful_timeout` for connections
to end; chat WebSockets never end by themselves, so it waited the whole grace period and then cut them
without a Socket.IO disconnect, and the process's presence stayed until `PRESENCE_TTL`. This worker runs
`realtime.drain.drain` instead (stop accepting, `server_shutdown`, presence removed and pushed, sockets
closed) and exits as soon as its connections are gone. Every accepted socket gets
`tcp_bounds.bound_connection` (TCP_USER_TIMEOUT and keepalive: a client that stops reading loses its socket).

Imported only by gunicorn (it imports gunicorn and gevent).
"""

from __future__ import annotations

import time
from functools import partial

import gevent
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn.workers.ggevent import GeventWorker

from ..tcp_bounds import bound_connection
from .drain import drain


class DrainingGeventWorker(GeventWorker):
    requests_in_flight = 0  # plain HTTP; neither a WebSocket session nor a connection idle between requests

    def handle(self, listener, client, addr):
        bound_connection(client)
        super().handle(listener, client, addr)

    def handle_request(self, listener_name, req, sock, addr):
        # A WebSocket session is not waited for after the drain: the drain closed it, or gave up on it.
        counted = not any(name == "UPGRADE" and value.lower() == "websocket" for name, value in req.headers)
        self.requests_in_flight += counted
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            self.requests_in_flight -= counted

    def run(self):  # GeventWorker.run (gunicorn 23-27) for plain StreamServers, with a drain at the end
        servers = []
        ssl_args = {}
        if self.cfg.is_ssl:
            from gunicorn.workers.ggevent import ssl_context

            ssl_args = {"ssl_context": ssl_context(self.cfg)}
        for listener in self.sockets:
            listener.setblocking(1)
            server = StreamServer(
                listener, handle=partial(self.handle, listener), spawn=Pool(self.worker_connections), **ssl_args
            )
            server.start()
            servers.append(server)

        while self.alive:  # handle_exit (SIGTERM) turns this false
            self.notify()
            gevent.sleep(0.1)

        def stop_accepting() -> None:
            for server in servers:
                server.close()

        try:
            drain(self.wsgi, stop_accepting)
        except Exception:
            self.log.exception("drain failed")
            stop_accepting()
        # Plain HTTP requests still running may finish within the grace period; connections idle between
        # keep-alive requests are not waited for (they would hold the exit for `keepalive` seconds).
        started = time.monotonic()
        while time.monotonic() - started <= self.cfg.graceful_timeout and self.requests_in_flight:
            self.notify()
            gevent.sleep(0.1)
        if self.requests_in_flight:
            self.log.warning("worker graceful timeout (pid:%s)", self.pid)
        for server in servers:
            server.stop(timeout=0.1)  # what is left: connections idle between requests
