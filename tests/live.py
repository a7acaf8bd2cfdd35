"""Real server processes for tests: `python serve.py` (gevent) on a free loopback port."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, database_url: str, redis_url: str | None, redis_prefix: str, log_path: Path,
                 extra_env: dict[str, str] | None = None):
        """Start `serve.py`; `extra_env` adds or overrides environment variables (e.g. `PRESENCE_TTL`)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SUPPORTGROUP_ENV": "development",
            "SECRET_KEY": "live-test-secret-key-0123456789abcdef",
            "DATABASE_URL": database_url,
            "REDIS_PREFIX": redis_prefix,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "8192",
        }
        env.pop("REDIS_URL", None)
        env.pop("SOCKETIO_MESSAGE_QUEUE", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        env.update(extra_env or {})
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen([sys.executable, str(ROOT / "serve.py")], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/login", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # --- clients -------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> requests.Session:
        http = requests.Session()
        page = http.get(self.url + "/login", timeout=5).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = http.post(self.url + "/login", data={"csrf_token": token, "username": username,
                                                         "password": password},
                             allow_redirects=False, timeout=10)
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return http

    def socket(self, http: requests.Session | None = None, origin: str | None = None) -> "LiveSocket":
        return LiveSocket(self.url, http, origin)


class LiveSocket:
    """A python-socketio client that records what it receives."""

    def __init__(self, url: str, http: requests.Session | None, origin: str | None):
        self.received: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False,
                                      websocket_extra_options={"origin": origin} if origin else {})
        self.client.on("*", lambda event, data=None: self.received.append((event, data)))
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http else ""
        self.client.connect(url, headers={"Cookie": cookie} if cookie else {}, transports=["websocket"],
                            wait_timeout=5)

    def call(self, event: str, data: dict, timeout: float = 5) -> dict:
        return self.client.call(event, data, timeout=timeout)

    def events(self, name: str, since: int = 0) -> list[dict]:
        return [data for event, data in self.received[since:] if event == name]

    def mark(self) -> int:
        """A position in what was received, for `wait_for(..., since=mark)`: only what came later."""
        return len(self.received)

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 5, since: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.events(name, since):
                if predicate(data):
                    return data
            time.sleep(0.02)
        raise AssertionError(f"no {name!r} event matching within {timeout}s; got {self.received!r}")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
        # When the server process died, python-engineio ends the session but leaves its WebSocket open; when the
        # server closed it (a drain), websocket-client's close does nothing and shutdown releases the socket.
        if (ws := getattr(self.client.eio, "ws", None)) is not None:
            ws.close()
            ws.shutdown()
