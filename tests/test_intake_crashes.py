"""A sign-up interrupted at any of its Airtable requests ends, after the sender's retry or after
`reconcile`, in the same base and Journal as a run without fault.

Each request of a clean run is hit in turn: refused (a 500, nothing applied) or applied with its
answer lost (`lose`: the process learns nothing, as when it dies right after a write).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import pytest

from schemas import options as opt
from schemas.records import MODELS, Pair
from shared import bootstrap
from shared.airtable import AirtableUnavailable
from shared.intake.reconcile import reconcile
from shared.typeform_client import TypeformClient
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER

SUBMITTED = {"submitted_at": "2020-11-02T17:30:00Z", "landed_at": "2020-11-02T17:26:00Z"}
RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
VOLATILE = {"received_at", "attempts", "payload"}  # when and how often, not what
FAULTS = [pytest.param({"lose": True}, id="applied-answer-lost"), pytest.param({"status": 500}, id="refused")]


def snapshot(live, tokens: list[str]) -> dict[str, list[Any]]:
    """Every table, with record ids and response tokens replaced by placeholders."""
    state = {}
    for model in MODELS:
        rows = []
        for record in live.gateway.all(model):
            if record.table_key == "journal" and record.external_ref.startswith("reconcile:"):
                continue  # the backfill's own bookkeeping
            text = repr(sorted(record.model_dump(mode="json", exclude={"record_id", *VOLATILE}).items()))
            for n, token in enumerate(tokens):
                for length in (len(token), 8, 6):  # whole, and the starts shown to people
                    text = text.replace(token[:length], f"<token {n}:{length}>")
            rows.append(RECORD_ID.sub("<id>", text))
        state[model.table_label()] = sorted(rows)
    return state


def airtable_requests(live) -> int:
    return sum(n for key, n in live.control("GET", "/stats")["requests"].items() if key.startswith("airtable"))


def run(live, submit: Callable[[], list[str]], fault: dict[str, Any] | None, through_reconcile: bool) -> dict:
    live.reset()
    if through_reconcile:
        unplug_webhooks(live)
    if fault is not None:
        live.control("POST", "/faults", json={"service": "airtable", "count": 1, **fault})
    tokens = submit()
    if through_reconcile:
        service, client = bootstrap.intake(), TypeformClient(live.settings)
        try:
            reconcile(service, client, live.settings)
        except AirtableUnavailable:
            pass  # the scheduler's run failed; a later one picks up
        # a run once the failure's backoff has passed (an entry in error waits 5 minutes)
        reconcile(service, client, live.settings, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=6))
    live.settle()
    return snapshot(live, tokens)


def requests_of_a_clean_run(live, submit: Callable[[], list[str]], through_reconcile: bool) -> tuple[dict, int]:
    live.reset()
    if through_reconcile:
        unplug_webhooks(live)
    before = airtable_requests(live)
    tokens = submit()
    if through_reconcile:
        reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)
    live.settle()
    count = airtable_requests(live) - before
    return snapshot(live, tokens), count


def volunteer(live) -> list[str]:
    return [live.submit("volunteer", VOLUNTEER, **SUBMITTED)["token"]]


def known_volunteer(live) -> list[str]:
    first = live.submit("volunteer", VOLUNTEER, **SUBMITTED)["token"]
    live.settle()
    again = live.submit("volunteer", {**VOLUNTEER, "capacity": 3, "slots": ["Jeudi 18h-20h"]},
                        submitted_at="2020-11-09T08:00:00Z", landed_at="2020-11-09T07:55:00Z")["token"]
    return [first, again]


def structure(live) -> list[str]:
    return [live.submit("structure", STRUCTURE, **SUBMITTED)["token"]]


SCENARIOS = {"volunteer": volunteer, "structure": structure}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["volunteer", "structure"])
def test_a_sign_up_interrupted_at_every_request_then_retried_by_typeform(live, kind, fault):
    submit = lambda: SCENARIOS[kind](live)  # noqa: E731
    clean, count = requests_of_a_clean_run(live, submit, through_reconcile=False)
    assert count == {"volunteer": 3, "structure": 4}[kind]
    for n in range(count):
        assert run(live, submit, {"after": n, **fault}, through_reconcile=False) == clean, f"request {n + 1}"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_sign_up_interrupted_at_every_request_then_backfilled_by_reconcile(live, fault):
    submit = lambda: volunteer(live)  # noqa: E731
    clean, count = requests_of_a_clean_run(live, submit, through_reconcile=True)
    for n in range(count):
        assert run(live, submit, {"after": n, **fault}, through_reconcile=True) == clean, f"request {n + 1}"


def test_a_second_sign_up_interrupted_at_every_request_keeps_its_status(live):
    """A known person's sign-up, lost half-way, is still « Mis à jour » after the retry: the
    record's first response is not this one, whatever the first attempt did."""
    clean, _ = requests_of_a_clean_run(live, lambda: known_volunteer(live), through_reconcile=False)
    for n in range(3):
        def submit() -> list[str]:
            first = volunteer(live)
            live.settle()
            live.control("POST", "/faults", json={"service": "airtable", "count": 1, "after": n, "lose": True})
            return first + known_volunteer_again(live)
        assert run(live, submit, None, through_reconcile=False) == clean, f"request {n + 1}"
    statuses = sorted(row for row in clean["Journal"])
    assert any("'Mis à jour'" in row for row in statuses) and any("'Traité'" in row for row in statuses)


def known_volunteer_again(live) -> list[str]:
    return [live.submit("volunteer", {**VOLUNTEER, "capacity": 3, "slots": ["Jeudi 18h-20h"]},
                        submitted_at="2020-11-09T08:00:00Z", landed_at="2020-11-09T07:55:00Z")["token"]]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_check_in_interrupted_at_every_request(live, fault):
    def submit() -> list[str]:
        live.control("DELETE", "/faults")  # the pair is set up first, then the fault armed
        [pair] = live.gateway.create([Pair(name="Léa × JM-1", status=opt.PairStatus.ACTIVE)])
        if armed:
            live.control("POST", "/faults", json={"service": "airtable", "count": 1, **armed})
        return [live.submit("checkin", {"mood": "Difficile", "sessions": 2, "needs_help": False},
                            hidden={"binome": pair.record_id, "par": "Bénévole"}, **SUBMITTED)["token"]]
    armed: dict[str, Any] = {}
    clean, count = requests_of_a_clean_run(live, submit, through_reconcile=False)
    assert count == 6  # the test's own pair, the Journal lookup, the pair, the check-in, its update, the entry
    for n in range(count - 1):
        armed = {"after": n, **fault}
        assert run(live, submit, None, through_reconcile=False) == clean, f"request {n + 2}"
