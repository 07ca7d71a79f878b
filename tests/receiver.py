"""A webhook receiver of our own, at our own port: records every request and answers with the
statuses a test scripts (200 once the script runs out), or what its handler says."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, Response, request

from emulators.server import BackgroundServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = 0.0  # time.monotonic()

    def json(self) -> Any:
        import json
        return json.loads(self.body)


class Receiver:
    def __init__(self, statuses: list[int] | None = None, handler: Callable[[Any], int] | None = None):
        self.statuses = list(statuses or [])
        self.handler = handler
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        app = Flask("receiver")

        @app.post("/", defaults={"path": ""})
        @app.post("/<path:path>")
        def receive(path: str) -> Response:
            arrived = Received("/" + path, dict(request.headers), request.get_data(), time.monotonic())
            handled = self.handler(request) if self.handler else None  # outside the lock: may overlap
            with self._arrived:
                self.received.append(arrived)
                status = handled if handled is not None else self.statuses.pop(0) if self.statuses else 200
                self._arrived.notify_all()
            return Response(status=status)

        self.server = BackgroundServer(app)

    @property
    def url(self) -> str:
        return self.server.url

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until `count` requests arrived (or fail after `timeout`)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")
            return list(self.received)

    def __enter__(self) -> "Receiver":
        self.server.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.stop()
