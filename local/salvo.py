"""Random faults for the vendor stand-ins, seeded: what a campaign under fire throws at each step.

A salvo posts faults to the fault board at random positions in the stream of requests to come
(`after`), on random kinds of request (`match`: reads, creates, updates), so they land on any step
of a multi-step write, not only the first. Kinds: Airtable 429 storms (the penalty follows), 500s
and 503s, 422s (a value refused: an entry for reconcile to retry), timeouts (an answer slower than
the client waits), dropped connections, and writes applied with their answer lost; SendGrid and
DocuSign 5xx.
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field
from typing import Any

from local.emulator import EmulatorControl

CLIENT_READ_TIMEOUT = 30.0  # seconds our clients wait for an answer (gateway, mailer, e-sign)
AIRTABLE_STEPS = ("", "GET ", "POST ", "PATCH ")  # any request, reads, creates and upserts, updates
# 422: Airtable refuses a value; the response is journaled « Erreur » and reconcile retries it.
AIRTABLE_KINDS = {"429": 3, "500": 3, "503": 2, "422": 1, "drop": 3, "lose": 3, "timeout": 1}
VENDOR_KINDS = {"500": 2, "502": 1, "503": 2}


def airtable_fault(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "429":
        return {"status": 429, "count": rng.randint(3, 8)}  # a storm: each one restarts the penalty
    if kind == "timeout":
        return {"latency": CLIENT_READ_TIMEOUT + 1}  # the client gives up; the write lands a second later
    if kind in ("drop", "lose"):
        return {kind: True}
    return {"status": int(kind), "count": 1 if kind == "422" else rng.randint(1, 2)}


@dataclass
class Salvo:
    control: EmulatorControl
    rng: random.Random
    sent: collections.Counter[str] = field(default_factory=collections.Counter)

    def fire(self, airtable: int, vendors: int = 0, spread: int = 200, storms: bool = True,
             timeouts: bool = True, match: str = "") -> None:
        """`airtable` faults on Airtable and `vendors` on SendGrid and DocuSign, spread at random over
        about `spread` requests: the board applies a service's faults in turn, each letting a random
        number of the requests it could hit through first. Without `storms`, no 429 (another process
        of ours is using the base); without `timeouts`, no 31-second answers."""
        kinds = {k: w for k, w in AIRTABLE_KINDS.items()
                 if (storms or k != "429") and (timeouts or k != "timeout")}
        for _ in range(airtable):
            kind = self.rng.choices(list(kinds), list(kinds.values()))[0]
            step = match or self.rng.choice(AIRTABLE_STEPS)
            self._post({"service": "airtable", "after": self.rng.randrange(2 * spread // airtable + 1), "match": step,
                        **airtable_fault(kind, self.rng)}, f"airtable {kind}")
        for _ in range(vendors):
            service = self.rng.choice(["sendgrid", "docusign"])
            kind = self.rng.choices(list(VENDOR_KINDS), list(VENDOR_KINDS.values()))[0]
            self._post({"service": service, "after": self.rng.randrange(2 * spread // (10 * vendors) + 1),
                        "match": "POST ",
                        "status": int(kind)}, f"{service} {kind}")

    def _post(self, spec: dict[str, Any], label: str) -> None:
        self.control.call("POST", "/faults", json=spec)
        self.sent[label] += 1

    def hold_fire(self) -> int:
        """Withdraw the faults not taken yet; how many there were."""
        pending = len(self.control.call("GET", "/faults")["pending"])
        self.control.call("DELETE", "/faults")
        return pending
