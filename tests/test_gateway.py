"""The Airtable gateway against the local Airtable: batching, pacing, diff-before-write, errors."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import requests

from schemas import options as opt
from schemas.records import Need, Structure, Volunteer
from shared.airtable import AirtableGateway, AirtableRejected, AirtableUnavailable
from shared.airtable.pacer import RequestPacer
from shared.provision import provision


@pytest.fixture
def base(gateway):
    provision(gateway)
    gateway.requests.clear()
    return gateway


def volunteers(count: int, hours: float = 2) -> list[Volunteer]:
    return [Volunteer(full_name=f"Bénévole {i}", first_name="Prénom", email=f"b{i}@exemple.fr",
                      levels=[opt.Level.SIXIEME, opt.Level.CINQUIEME], subjects=[opt.Subject.MATHS],
                      slots=[opt.Slot.LUNDI_16H_18H], mode=opt.Mode.BOTH, capacity=2, hours_per_week=hours,
                      consent=True, registered_at=dt.datetime(2020, 10, 1, 8, 30, 0, 123456, tzinfo=dt.timezone.utc))
            for i in range(count)]


def test_bulk_write_of_1000_records_costs_100_requests_and_draws_no_429(emulator, settings, base):
    emulator.control("POST", "/airtable/config", json={"rate_limit": 5, "penalty_seconds": 30})  # as Airtable
    paced = AirtableGateway(settings, pacer=RequestPacer())  # Airtable's real limit, client side
    before = emulator.stats()["requests"].get("airtable PATCH", 0)

    outcome = paced.upsert(volunteers(1000), key="email")

    assert len(outcome.created) == 1000 and outcome.updated == []
    assert dict(paced.requests) == {"PATCH": 100}
    assert emulator.stats()["requests"]["airtable PATCH"] - before == 100
    assert "airtable 429" not in emulator.stats()["errors"]

    again = paced.sync(volunteers(1000), key="email")

    assert (again.created, again.updated, again.unchanged) == ([], [], 1000)
    assert dict(paced.requests) == {"PATCH": 100, "GET": 10}  # ten pages read, nothing written
    assert "airtable 429" not in emulator.stats()["errors"]


def test_a_429_costs_one_wait_of_the_penalty_not_a_storm(emulator, settings, base):
    """Someone else bursts and draws the base's penalty; our next request is refused once, the
    process holds every request for the penalty, and the retry goes through."""
    penalty = 1.0
    emulator.control("POST", "/airtable/config", json={"rate_limit": 5, "penalty_seconds": penalty})
    paced = AirtableGateway(settings.rebuilt(BINOME_AIRTABLE_PENALTY=penalty), pacer=RequestPacer())
    url = f"{emulator.airtable_url}/v0/{settings.AIRTABLE_BASE_ID}/Journal"
    statuses = [requests.get(url, headers={"Authorization": "Bearer other"}, timeout=5).status_code
                for _ in range(6)]
    assert statuses[-1] == 429  # the other client drew the penalty
    before = emulator.stats()["errors"]["airtable 429"]

    started = time.monotonic()
    assert paced.all(Volunteer) == []

    assert time.monotonic() - started >= penalty
    assert dict(paced.requests) == {"GET": 2} and paced.adapter.penalties == 1
    assert emulator.stats()["errors"]["airtable 429"] - before == 1  # one refusal, no storm


def test_sync_writes_only_the_records_and_fields_that_changed(emulator, base):
    first = base.sync(volunteers(30), key="email")
    assert len(first.created) == 30 and base.requests["POST"] == 3  # 10 records per write

    desired = volunteers(30)
    desired[4].capacity = 3
    desired[17].subjects = [opt.Subject.MATHS, opt.Subject.FRENCH]
    base.requests.clear()
    outcome = base.sync(desired, key="email")

    assert len(outcome.updated) == 2 and outcome.unchanged == 28
    assert dict(base.requests) == {"GET": 1, "PATCH": 1}
    stored = {v.email: v for v in base.all(Volunteer)}
    assert stored["b4@exemple.fr"].capacity == 3 and stored["b4@exemple.fr"].full_name == "Bénévole 4"
    assert stored["b17@exemple.fr"].subjects == ["Mathématiques", "Français"]


def test_a_partial_record_changes_only_what_it_names(base):
    base.sync(volunteers(3), key="email")
    outcome = base.sync([Volunteer(email="b1@exemple.fr", status=opt.VolunteerStatus.AVAILABLE)], key="email")
    assert len(outcome.updated) == 1
    b1 = base.first(Volunteer, "{Email} = 'b1@exemple.fr'")
    assert b1.status == "Disponible" and b1.capacity == 2 and b1.levels == ["6e", "5e"]


def test_typed_records_round_trip(base):
    [original] = volunteers(1)
    [created] = base.create([original])
    fetched = base.get(Volunteer, created.record_id)
    assert fetched.model_dump(exclude={"record_id"}) == original.model_dump(exclude={"record_id"})
    assert fetched.registered_at == dt.datetime(2020, 10, 1, 8, 30, 0, 123000, tzinfo=dt.timezone.utc)


def test_links_and_their_inverse_through_typed_records(base):
    [structure] = base.create([Structure(name="Collège Pasteur", email="c@exemple.fr")])
    base.create([Need(reference="E-1", structure=[structure.record_id], level=opt.Level.QUATRIEME)])
    assert len(base.get(Structure, structure.record_id).needs) == 1


def test_airtable_down_is_unavailable_and_a_bad_request_is_rejected(emulator, base):
    emulator.fault(service="airtable", status=503)
    with pytest.raises(AirtableUnavailable):
        base.all(Volunteer)
    emulator.fault(service="airtable", drop=True)
    with pytest.raises(AirtableUnavailable):
        base.all(Volunteer)
    with pytest.raises(AirtableRejected) as excinfo:
        base.create([Need(reference="E-2", structure=["recDoesNotExist1"])])
    assert excinfo.value.status == 422 and excinfo.value.error["type"] == "ROW_DOES_NOT_EXIST"


def test_pacer_never_lets_more_than_limit_requests_share_a_window():
    """Recorded start/answer times of concurrent requests obey the invariant the server relies on."""
    pacer, window, limit = RequestPacer(limit=3, window=0.2), 0.2, 3
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def request(i: int) -> None:
        with pacer.slot():
            start = time.monotonic()
            time.sleep(0.01 * (i % 4))  # uneven latencies
            end = time.monotonic()
        with lock:
            spans.append((start, end))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for start, _ in spans:
        # requests the server could count in the same window as this one: answered less than
        # `window` before it started, or still in flight when it started
        overlapping = [s for s, e in spans if s <= start and e > start - window]
        assert len(overlapping) <= limit
