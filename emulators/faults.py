"""Faults injected into the next requests of a service, for reliability tests and demos.

`POST /_emulator/faults {"service": "airtable", "status": 503, "count": 2}` makes the next two
Airtable requests answer 503; `latency` (seconds) delays them, `drop` closes the connection
without an answer.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

SERVICES = ("airtable", "sendgrid", "docusign", "typeform")


@dataclass
class Fault:
    service: str
    count: int = 1
    status: int | None = None
    latency: float = 0.0
    drop: bool = False


class FaultBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(
            service=str(spec.get("service", "")),
            count=int(spec.get("count", 1)),
            status=int(spec["status"]) if spec.get("status") is not None else None,
            latency=float(spec.get("latency", 0.0)),
            drop=bool(spec.get("drop", False)),
        )
        if fault.service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        if fault.count < 1 or fault.latency < 0 or not (fault.status or fault.latency or fault.drop):
            raise ValueError("a fault needs count >= 1 and a status, a latency or drop")
        if fault.status is not None and not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        with self._lock:
            self._pending.append(fault)
        return fault

    def take(self, service: str) -> Fault | None:
        """The fault that applies to this request of `service`, if any (consumes one count)."""
        with self._lock:
            for fault in self._pending:
                if fault.service == service:
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
