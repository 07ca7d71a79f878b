"""What the campaign under fire asks of the stand-ins: webhooks delivered twice or late on demand
(seeded), deliveries held between two retries, the faults taken listed with the request they hit,
and Airtable's 429s counted by cause."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from emulators.airtable.api import AirtableConfig
from emulators.delivery import Chaos, Deliverer, Delivery, backoff_policy
from emulators.faults import FaultBoard
from tests.receiver import Receiver


@pytest.fixture
def deliverer() -> Iterator[Deliverer]:
    deliverer = Deliverer(time_scale=1e-3)  # 600 nominal seconds late: at most 0.6 s
    yield deliverer
    deliverer.stop()


def delivery(url: str, n: int) -> Delivery:
    body = json.dumps({"n": n}).encode()
    return Delivery(id=f"d{n}", service="typeform", url=url, description=f"réponse t{n} au formulaire f",
                    render=lambda attempt: (body, {"Content-Type": "application/json"}), policy=backoff_policy([]))


def test_chaos_delivers_each_webhook_twice_when_asked(deliverer):
    with Receiver() as receiver:
        deliverer.chaos = Chaos(duplicate=1.0, seed=1)
        for n in range(3):
            deliverer.submit(delivery(receiver.url, n))
        assert deliverer.wait_idle(10)
        assert sorted(r.json()["n"] for r in receiver.wait_for(6)) == [0, 0, 1, 1, 2, 2]
        assert sorted(d.twin_of for d in deliverer.deliveries) == ["", "", "", "d0", "d1", "d2"]
        assert all(d.state == "delivered" for d in deliverer.deliveries)


def test_a_late_delivery_arrives_after_one_sent_later(deliverer):
    with Receiver() as receiver:
        deliverer.chaos = Chaos(late=1.0, late_by=600, seed=3)
        deliverer.submit(delivery(receiver.url, 0))
        deliverer.chaos = Chaos()
        deliverer.submit(delivery(receiver.url, 1))
        assert [r.json()["n"] for r in receiver.wait_for(2)] == [1, 0]
        assert deliverer.deliveries[0].late_by > 0 and deliverer.deliveries[1].late_by == 0


def test_the_same_seed_makes_the_same_chaos():
    draws = [[(c.delay(), c.rng.random()) for _ in range(5)] for c in (Chaos(late=0.5, late_by=10, seed=7),
                                                                        Chaos(late=0.5, late_by=10, seed=7))]
    assert draws[0] == draws[1]


@pytest.mark.parametrize("spec", [{"duplicate": 2}, {"late": -0.1}, {"late_by": -1}])
def test_chaos_refuses_what_is_not_a_probability_or_a_delay(spec):
    with pytest.raises(ValueError):
        Chaos(**spec)


def test_held_deliveries_wait_for_their_release(deliverer):
    with Receiver() as receiver:
        assert deliverer.hold(timeout=5)
        deliverer.submit(delivery(receiver.url, 0))
        assert not deliverer.wait_idle(0.2) and receiver.received == []
        deliverer.release()
        assert deliverer.wait_idle(10) and [r.json()["n"] for r in receiver.wait_for(1)] == [0]


def test_the_board_lists_the_faults_taken_and_withdrawing_keeps_the_list():
    board = FaultBoard()
    board.add({"service": "airtable", "status": 429, "count": 2, "match": "PATCH "})
    board.add({"service": "airtable", "lose": True, "after": 1})
    assert board.take("airtable", "GET /airtable/v0/app/Bénévoles") is None  # lets one through first
    assert board.take("airtable", "PATCH /airtable/v0/app/Bénévoles") is not None
    assert board.take("airtable", "GET /airtable/v0/app/Journal") is not None
    assert board.taken() == [
        {"service": "airtable", "kind": "429", "request": "PATCH /airtable/v0/app/Bénévoles"},
        {"service": "airtable", "kind": "lose", "request": "GET /airtable/v0/app/Journal"}]
    board.withdraw()
    assert board.pending() == [] and len(board.taken()) == 2
    board.clear()
    assert board.taken() == []


def test_airtable_429s_are_counted_by_cause():
    config = AirtableConfig(rate_limit=2)
    config.update({"penalty_seconds": 60})
    assert config.admit("app1") and config.admit("app1")
    assert not config.admit("app1")  # over the limit: the penalty starts
    assert not config.admit("app1")  # during the penalty
    assert config.as_dict()["refused"] == {"limit": 1, "penalty": 1}
    config.reset()
    assert config.as_dict()["refused"] == {"limit": 0, "penalty": 0}
