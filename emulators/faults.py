"""Faults injected into the requests of a service, for reliability tests and demos.

`POST /_emulator/faults {"service": "airtable", "status": 503, "count": 2}` makes the next two
Airtable requests answer 503; `latency` (seconds) delays them, `drop` closes the connection
without an answer (the request is not applied), `lose` applies the request and then closes the
connection: the caller never learns that its write landed, as when a process dies between a
write and the next step. `after` lets that many requests through first, so a test can hit the
n-th request of a multi-step write; `match` restricts the fault to requests whose "METHOD path"
contains it. `GET /_emulator/faults` also lists the faults taken, with the request each one hit,
so a run under random faults can say where they landed.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

SERVICES = ("airtable", "sendgrid", "docusign", "typeform", "cloudtasks")


@dataclass
class Fault:
    service: str
    count: int = 1
    status: int | None = None
    latency: float = 0.0
    drop: bool = False
    lose: bool = False
    after: int = 0
    match: str = ""

    @property
    def kind(self) -> str:
        """What the caller sees: a status, a timeout-like wait, a dropped or a lost answer."""
        if self.drop:
            return "drop"
        if self.lose:
            return "lose"
        if self.status is not None:
            return str(self.status)
        return f"latency {self.latency:g}s"


class FaultBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._taken: list[dict[str, Any]] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = Fault(
            service=str(spec.get("service", "")),
            count=int(spec.get("count", 1)),
            status=int(spec["status"]) if spec.get("status") is not None else None,
            latency=float(spec.get("latency", 0.0)),
            drop=bool(spec.get("drop", False)),
            lose=bool(spec.get("lose", False)),
            after=int(spec.get("after", 0)),
            match=str(spec.get("match", "")),
        )
        if fault.service not in SERVICES:
            raise ValueError(f"service must be one of {', '.join(SERVICES)}")
        if fault.count < 1 or fault.after < 0 or fault.latency < 0 or \
                not (fault.status or fault.latency or fault.drop or fault.lose):
            raise ValueError("a fault needs count >= 1, after >= 0 and a status, a latency, drop or lose")
        if fault.status is not None and not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        with self._lock:
            self._pending.append(fault)
        return fault

    def take(self, service: str, request_line: str = "") -> Fault | None:
        """The fault that applies to this request of `service`, if any (consumes one count, or
        one of the requests it lets through first)."""
        with self._lock:
            for fault in self._pending:
                if fault.service != service or fault.match not in request_line:
                    continue
                if fault.after:
                    fault.after -= 1
                    return None
                fault.count -= 1
                if fault.count == 0:
                    self._pending.remove(fault)
                self._taken.append({"service": service, "kind": fault.kind, "request": request_line})
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._pending]

    def taken(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._taken)

    def withdraw(self) -> None:
        """Forget the faults not taken yet (the ones taken stay listed)."""
        with self._lock:
            self._pending.clear()

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._taken.clear()
