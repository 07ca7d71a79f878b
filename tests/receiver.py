"""A webhook receiver of our own, at our own port: records every request and answers with the
statuses a test scripts (200 once the script runs out)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request

from emulators.server import BackgroundServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json
        return json.loads(self.body)


class Receiver:
    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        app = Flask("receiver")

        @app.post("/", defaults={"path": ""})
        @app.post("/<path:path>")
        def receive(path: str) -> Response:
            with self._arrived:
                self.received.append(Received("/" + path, dict(request.headers), request.get_data()))
                status = self.statuses.pop(0) if self.statuses else 200
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
