"""Small HTTP helpers shared by the emulated services."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Callable

from flask import Response, g, request

from emulators.faults import FaultBoard


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class DroppedConnection(Exception):
    """Raised after the client socket was shut down on purpose."""


def apply_fault(faults: FaultBoard, service: str,
                error_body: Callable[[int], Any]) -> Response | None:
    """Apply the next injected fault of `service` to this request, if there is one.

    `error_body(status)` gives the body in the vendor's own error shape.
    """
    fault = faults.take(service, f"{request.method} {request.path}")
    if fault is None:
        return None
    if fault.latency:
        time.sleep(fault.latency)
    if fault.drop:
        drop_connection()
        raise DroppedConnection(service)
    if fault.lose:
        g.lose_answer = True  # `lose_answer_if_asked` drops it once the request has been applied
    if fault.status:
        return json_response(error_body(fault.status), fault.status)
    return None


def drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


def lose_answer_if_asked(response: Response) -> Response:
    """After a request was handled (and its writes committed), close the connection instead of
    answering when a `lose` fault asked for it."""
    if g.get("lose_answer"):
        drop_connection()
    return response
