"""A sign-up interrupted at any of its Airtable requests ends, after the sender's retry or after
`reconcile`, in the same base, Journal, emails and envelopes as a run without fault.

Each request of a clean run is hit in turn: refused (a 500, nothing applied) or applied with its
answer lost (`lose`: the process learns nothing, as when it dies right after a write). Two points
cannot end as cleanly, and the test holds them to what they must be instead: the claim of the
sends applied but its answer lost (nothing was sent, but nobody can know) — for a new person, the
write that creates a volunteer's record, which claims the first sends — and the outcome of the sends
refused (they went, but the record does not say so). There the email is « Incertain » and not
sent twice, and the envelope, found again by its reference in DocuSign, exists exactly once.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import pytest

from schemas import options as opt
from schemas.records import MODELS, Pair, Volunteer
from shared import bootstrap
from shared.airtable import AirtableUnavailable
from shared.intake.reconcile import reconcile
from shared.onboarding.service import OnboardingService
from shared.typeform_client import TypeformClient
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import STRUCTURE, VOLUNTEER

SUBMITTED = {"submitted_at": "2020-11-02T17:30:00Z", "landed_at": "2020-11-02T17:26:00Z"}
RECORD_ID = re.compile(r"rec[A-Za-z0-9]{14}")
MOMENT = re.compile(r"\d{8}T\d{6}\.\d{6}")
ENVELOPE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# when, how often and under which vendor id: not what happened
VOLATILE = {"received_at", "attempts", "payload", "email_prepared_at", "email_sent_at", "email_message_id",
            "envelope_prepared_at", "envelope_sent_at", "envelope_id"}
LOSE, REFUSE = {"lose": True}, {"status": 500}
FAULTS = [pytest.param(LOSE, id="applied-answer-lost"), pytest.param(REFUSE, id="refused")]


def snapshot(live, tokens: list[str]) -> dict[str, list[Any]]:
    """Every table, the outbox and the envelopes, with ids, tokens and times masked."""
    state: dict[str, list[Any]] = {}
    for model in MODELS:
        rows = []
        for record in live.gateway.all(model):
            if record.table_key == "journal" and record.external_ref.startswith("reconcile:"):
                continue  # the backfill's own bookkeeping
            rows.append(mask(repr(sorted(record.model_dump(mode="json", exclude=VOLATILE).items())), tokens))
        state[model.table_label()] = sorted(rows)
    state["emails"] = sorted(mask(f"{m['recipients']} {m['subject']}", tokens)
                             for m in live.control("GET", "/outbox")["messages"])
    state["envelopes"] = sorted(f"{e['recipients']['signers'][0]['email']} {e['templateId']}"
                                for e in live.control("GET", "/envelopes")["envelopes"])
    return state


def mask(text: str, tokens: list[str]) -> str:
    for n, token in enumerate(tokens):
        for length in (len(token), 8, 6):  # whole, and the starts shown to people
            text = text.replace(token[:length], f"<token {n}:{length}>")
    return ENVELOPE_ID.sub("<envelope>", MOMENT.sub("<time>", RECORD_ID.sub("<id>", text)))


def airtable_requests(live) -> int:
    return sum(n for key, n in live.control("GET", "/stats")["requests"].items() if key.startswith("airtable"))


def sweep_later(live) -> None:
    """`reconcile`'s pass over owed sends, once every claim is old enough to be taken over."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=16)
    OnboardingService(bootstrap.gateway(), bootstrap.mailer(), bootstrap.esign(), live.settings, bootstrap.alerts(),
                      clock=lambda: later).sweep_all()


def run(live, submit: Callable[[], list[str]], fault: dict[str, Any] | None, through_reconcile: bool) -> dict:
    live.reset()
    live.unplug_vendor_events()  # their events would interleave their own requests with the sign-up's
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
    sweep_later(live)
    live.settle()
    return snapshot(live, tokens)


def requests_of_a_clean_run(live, submit: Callable[[], list[str]], through_reconcile: bool) -> tuple[dict, int]:
    live.reset()
    live.unplug_vendor_events()
    if through_reconcile:
        unplug_webhooks(live)
    before = airtable_requests(live)
    tokens = submit()
    if through_reconcile:
        reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)
    live.settle()
    count = airtable_requests(live) - before
    sweep_later(live)
    live.settle()
    return snapshot(live, tokens), count


def assert_doubtful_but_safe(outcome: dict, clean: dict, where: str) -> None:
    """Everything as in the clean run but the email's status, « Incertain »; at most the one email."""
    for table in ("Bénévoles", "Structures"):
        assert [row.replace("'Incertain'", "'Envoyé'") for row in outcome[table]] == clean[table], where
    people = outcome["Bénévoles"] + outcome["Structures"]
    assert any("('email_status', 'Incertain')" in row for row in people), where
    assert len(outcome["emails"]) <= len(clean["emails"]), where  # never a second one
    assert outcome["envelopes"] == clean["envelopes"], where  # exactly one, found again
    claims = lambda rows: [row for row in rows if "('type', 'envoi')" not in row]  # noqa: E731
    assert claims(outcome["Journal"]) == claims(clean["Journal"]), where  # the recovery adds its own claim


def check_every_point(live, submit, names: list[str], fault: dict[str, Any], doubtful: set[tuple[str, str]],
                      through_reconcile: bool) -> None:
    clean, count = requests_of_a_clean_run(live, submit, through_reconcile)
    assert count == len(names), (count, names)
    kind = "lose" if fault is LOSE else "refuse"
    for n, name in enumerate(names):
        outcome = run(live, submit, {"after": n, **fault}, through_reconcile)
        if (name, kind) in doubtful:
            assert_doubtful_but_safe(outcome, clean, f"{name} ({kind})")
        else:
            assert outcome == clean, f"{name} ({kind})"


def volunteer(live) -> list[str]:
    return [live.submit("volunteer", VOLUNTEER, **SUBMITTED)["token"]]


def structure(live) -> list[str]:
    return [live.submit("structure", STRUCTURE, **SUBMITTED)["token"]]


# The requests of each sign-up, in order; where a fault leaves the email in doubt. A new volunteer's
# record, created, claims its first sends; a known volunteer's or a structure's are claimed in the
# Journal.
SIGN_UP = ["read", "person", "outcome", "journal"]
DOUBTFUL = {("person", "lose"), ("outcome", "refuse")}
SIGN_UP_AGAIN = ["read", "person", "claim", "outcome", "journal"]
DOUBTFUL_AGAIN = {("claim", "lose"), ("outcome", "refuse")}
SCENARIOS = {"volunteer": (volunteer, SIGN_UP, DOUBTFUL),
             "structure": (structure, ["read", "person", "needs", "claim", "outcome", "journal"], DOUBTFUL_AGAIN)}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["volunteer", "structure"])
def test_a_sign_up_interrupted_at_every_request_then_retried_by_typeform(live, kind, fault):
    submit, names, doubtful = SCENARIOS[kind]
    check_every_point(live, lambda: submit(live), names, fault, doubtful, through_reconcile=False)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_sign_up_interrupted_at_every_request_then_backfilled_by_reconcile(live, fault):
    # reconcile's own requests around the sign-up's: the volunteer form's watermark and Journal
    # lookup, the sign-up, the new watermark, the other two forms' watermarks, the entries in
    # error, the owed sends in both tables
    names = ["watermark", "journal lookup", *SIGN_UP, "new watermark", "watermark 2", "watermark 3", "errors",
             "owed volunteers", "owed structures"]
    check_every_point(live, lambda: volunteer(live), names, fault, DOUBTFUL, through_reconcile=True)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_second_sign_up_interrupted_at_every_request_keeps_its_status(live, fault):
    """A known person's sign-up, lost half-way, is still « Mis à jour » after the retry (the record's
    first response is not this one, whatever the first attempt did), with its one update email."""
    armed: dict[str, Any] = {}

    def submit() -> list[str]:
        first = volunteer(live)
        live.settle()
        if armed:
            live.control("POST", "/faults", json={"service": "airtable", "count": 1, **armed})
        again = live.submit("volunteer", {**VOLUNTEER, "capacity": 3, "slots": ["Jeudi 18h-20h"]},
                            submitted_at="2020-11-09T08:00:00Z", landed_at="2020-11-09T07:55:00Z")["token"]
        return first + [again]

    clean, _ = requests_of_a_clean_run(live, submit, through_reconcile=False)
    assert any("'Mis à jour'" in row for row in clean["Journal"])
    assert len(clean["emails"]) == 2 and len(clean["envelopes"]) == 1  # welcome, then the update
    kind = "lose" if fault is LOSE else "refuse"
    for n, name in enumerate(SIGN_UP_AGAIN):
        armed = {"after": n, **fault}
        outcome = run(live, submit, None, through_reconcile=False)
        if (name, kind) in DOUBTFUL_AGAIN:
            assert_doubtful_but_safe(outcome, clean, f"{name} ({kind})")
        else:
            assert outcome == clean, f"{name} ({kind})"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_check_in_interrupted_at_every_request(live, fault):
    armed: dict[str, Any] = {}

    def submit() -> list[str]:
        live.control("DELETE", "/faults")  # the pair is set up first, then the fault armed
        [pair] = live.gateway.create([Pair(name="Léa × JM-1", status=opt.PairStatus.ACTIVE)])
        if armed:
            live.control("POST", "/faults", json={"service": "airtable", "count": 1, **armed})
        return [live.submit("checkin", {"mood": "Difficile", "sessions": 2, "needs_help": False},
                            hidden={"binome": pair.record_id, "par": "Bénévole"}, **SUBMITTED)["token"]]

    clean, count = requests_of_a_clean_run(live, submit, through_reconcile=False)
    assert count == 6  # the test's own pair, the Journal lookup, the pair, the check-in, its update, the entry
    for n in range(count - 1):
        armed = {"after": n, **fault}
        assert run(live, submit, None, through_reconcile=False) == clean, f"request {n + 2}"


def test_the_clean_run_sends_one_welcome_and_one_agreement(live):
    clean, _ = requests_of_a_clean_run(live, lambda: volunteer(live), through_reconcile=False)
    assert len(clean["emails"]) == 1 and "Bienvenue, Léa" in clean["emails"][0]
    assert clean["envelopes"] == ["lea.martin@exemple.fr convention-benevole"]
    [person] = live.gateway.all(Volunteer)
    assert (person.email_status, person.envelope_status, person.status) == ("Envoyé", "Envoyée", "Convention envoyée")
