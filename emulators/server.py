"""Serve a WSGI application on a loopback port in a background thread (tests, the stack)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class BackgroundServer:
    def __init__(self, app: Any, port: int = 0, host: str = "127.0.0.1", ssl_context: Any = None):
        self.app = app
        self.scheme = "https" if ssl_context else "http"
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, ssl_context=ssl_context)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"server:{self._server.port}")

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> "BackgroundServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        state = getattr(self.app, "extensions", {}).get("emulators")
        if state is not None:
            state.close()  # background webhook deliveries

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def quiet_request_logs() -> None:
    """Werkzeug logs every request at INFO; keep the console for what matters."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
