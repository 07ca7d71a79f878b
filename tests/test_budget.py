"""The base's budget shared by every process through Redis (`shared.airtable.budget`): slots counted
across processes, the penalty seen by all, people before background work, a dead process's slot
freed, Redis unreachable, and what goes wrong without it: instances pacing themselves alone draw 429s
where the shared budget draws none."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Iterator

import pytest

from schemas.records import Volunteer
from shared.airtable import AirtableGateway, AirtableUnavailable
from shared.airtable.budget import SharedPacer
from shared.airtable.pacer import RequestPacer
from shared.provision import provision
from tests.redis_server import redis_server

BASE = "http://airtable.test/appBinomeBudget01"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    yield from redis_server()


@pytest.fixture
def budget(redis_url: str) -> Iterator[str]:
    """An empty store for each test."""
    yield redis_url
    SharedPacer(redis_url, BASE).redis.flushall()


def process(url: str, priority: str = "people", base: str = BASE) -> SharedPacer:
    """One process's handle: a connection pool of its own, nothing shared in memory."""
    return SharedPacer(url, base, priority=priority)  # type: ignore[arg-type]


def test_slots_are_counted_across_processes(budget):
    a, b = process(budget), process(budget)
    assert [a.try_acquire(f"a{n}") for n in range(3)] + [b.try_acquire(f"b{n}") for n in range(2)] == [0.0] * 5
    assert a.try_acquire("a9") == -1.0  # five in flight: wait until one is answered
    b.release("b0")
    wait = b.try_acquire("b9")
    assert 0.9 < wait <= 1.0  # the answered one frees its slot a window after its answer
    assert process(budget, base="http://airtable.test/appAnotherBase01").try_acquire("c") == 0.0  # bases apart
    assert not [key for key in a.redis.keys() if b"appBinomeBudget01" in key or b"airtable.test" in key]


def test_a_penalty_holds_every_process(budget):
    a, b = process(budget), process(budget)
    a.penalise(30)
    assert 29 < b.try_acquire("b") <= 30
    a.penalise(5)  # a shorter one does not cut the longer short
    assert 29 < b.try_acquire("b") <= 30


def test_a_person_waiting_goes_before_background_work(budget):
    person, writer = process(budget), process(budget, "background")
    for n in range(5):
        assert writer.try_acquire(f"w{n}") == 0.0
    assert person.try_acquire("p") != 0.0  # full: the person waits, and says so
    person.redis.zrem(person.keys[1], "w0")  # one request ends long ago (its window over)
    assert writer.try_acquire("w9") != 0.0  # the free slot is the person's
    assert person.try_acquire("p") == 0.0
    assert person.in_use()["waiting"] == 0


def test_a_dead_process_does_not_hold_its_slot_for_ever(budget):
    a = process(budget)
    for n in range(5):
        a.try_acquire(f"dead{n}")
    assert a.try_acquire("next") == -1.0
    # The process died mid-request: its slots' expiry (the longest a request can take) comes.
    a.redis.zadd(a.keys[1], {f"dead{n}": 0 for n in range(5)})
    assert a.try_acquire("next") == 0.0


def test_without_redis_the_process_paces_itself_at_a_fraction(caplog, emulator, settings):
    pacer = SharedPacer("unix:///nonexistent/redis.sock", BASE)
    gateway = AirtableGateway(settings, pacer=pacer)
    provision(gateway)
    with caplog.at_level(logging.ERROR):
        gateway.create([Volunteer(full_name="Léa M", email="lea@exemple.fr")])
        assert [v.email for v in gateway.all(Volunteer)] == ["lea@exemple.fr"]
    assert pacer.fallback.limit == 1.0
    assert [r.message for r in caplog.records].count(
        "the shared Airtable budget is unreachable (ConnectionError): pacing this process alone, at 1.0 requests/s") == 1


def hammer(gateways: list[AirtableGateway], reads: int) -> list[str]:
    """Every gateway reads at once, as instances of several functions do; the errors they meet."""
    def read(gateway: AirtableGateway) -> str:
        try:
            for _ in range(reads):
                gateway.all(Volunteer, max_records=1)
        except AirtableUnavailable as exc:
            return str(exc)
        return ""

    with concurrent.futures.ThreadPoolExecutor(len(gateways)) as pool:
        return [e for e in pool.map(read, gateways) if e]


@pytest.mark.parametrize("shared", [True, False], ids=["shared budget", "each instance alone"])
def test_instances_together_stay_under_the_base_limit_only_with_the_shared_budget(shared, budget, emulator, settings):
    provision(AirtableGateway(settings, pacer=RequestPacer(limit=1000)))
    emulator.control("POST", "/airtable/config", json={"rate_limit": 5, "penalty_seconds": 30})
    pacers = [process(budget) if shared else RequestPacer() for _ in range(3)]
    gateways = [AirtableGateway(settings, pacer=pacer, penalty_retries=0) for pacer in pacers]
    errors = hammer(gateways, reads=4)
    throttled = emulator.stats()["errors"].get("airtable 429", 0)
    if shared:
        assert (errors, throttled) == ([], 0)
    else:  # three pacers of 5 requests/s each: 15/s on a base that takes 5
        assert throttled > 0 and errors
