"""New or known, from the record's durable state (`shared/intake/signups.py`), and what intake
writes on a second sign-up: pure tests, a property over any order of deliveries, and the paths
through the stack that depend on it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from schemas import options as opt
from schemas.records import JournalEntry, Volunteer
from shared import bootstrap
from shared.intake.reconcile import reconcile
from shared.intake.signups import TwinRecords, plan_sign_up
from shared.journal import Journal
from shared.typeform_client import TypeformClient
from tests.test_intake_reconcile import unplug_webhooks
from tests.test_intake_webhook import VOLUNTEER, journal, payload_for

MONDAY = dt.datetime(2020, 11, 2, 17, 30, tzinfo=dt.timezone.utc)


def answers(capacity: int = 2, **more: object) -> Volunteer:
    return Volunteer(full_name="Léa Martin", first_name="Léa", email="lea@exemple.fr", capacity=capacity,
                     levels=[opt.Level.QUATRIEME], **more)


def stored(record: Volunteer, record_id: str = "recLea00000000001") -> Volunteer:
    """The record as Airtable gives it back: every attribute known."""
    return Volunteer.model_validate({**record.model_dump(), "record_id": record_id})


def test_no_record_is_a_new_person_created_with_this_response():
    plan = plan_sign_up(answers(), [], "tok-1", MONDAY)
    assert plan.new and plan.update is None and plan.create is not None
    assert (plan.create.first_token, plan.create.typeform_token) == ("tok-1", "tok-1")
    assert plan.create.registered_at == plan.create.last_response_at == MONDAY


def test_a_record_this_response_created_is_still_new_on_a_retry():
    created = stored(plan_sign_up(answers(), [], "tok-1", MONDAY).create)
    plan = plan_sign_up(answers(), [created], "tok-1", MONDAY)
    assert plan.new and plan.applied and not plan.writes


def test_a_second_sign_up_writes_only_what_changed():
    first = stored(plan_sign_up(answers(), [], "tok-1", MONDAY).create)
    later = MONDAY + dt.timedelta(days=7)
    plan = plan_sign_up(answers(capacity=3), [first], "tok-2", later)
    assert not plan.new and plan.update is not None
    assert plan.update.to_fields() == {"Capacité": 3, "Réponse Typeform": "tok-2",
                                       "Dernière réponse le": "2020-11-09T17:30:00Z"}
    assert plan.update.record_id == "recLea00000000001"  # « Inscrit le » and the first response stay


def test_an_older_response_never_overwrites_a_newer_one():
    first = stored(plan_sign_up(answers(capacity=3), [], "tok-2", MONDAY).create)
    plan = plan_sign_up(answers(capacity=1), [first], "tok-1", MONDAY - dt.timedelta(hours=1))
    assert plan.stale and not plan.writes and not plan.new


def test_a_response_already_applied_does_not_undo_a_coordinators_edit():
    record = stored(plan_sign_up(answers(), [], "tok-1", MONDAY).create)
    record.capacity = 5  # a coordinator's correction since
    plan = plan_sign_up(answers(), [record], "tok-1", MONDAY)
    assert plan.applied and not plan.writes


def test_twin_records_are_named():
    with pytest.raises(TwinRecords) as twins:
        plan_sign_up(answers(), [stored(answers(), "recTwin0000000001"), stored(answers(), "recTwin0000000002")],
                     "tok-1", MONDAY)
    assert twins.value.record_ids == ["recTwin0000000001", "recTwin0000000002"]
    assert "2 fiches ont la même adresse email" in str(twins.value)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=4).flatmap(lambda k: st.tuples(st.just(k), st.lists(
    st.integers(min_value=0, max_value=k - 1), max_size=2 * k).flatmap(
        lambda repeats: st.permutations(list(range(k)) + repeats)))))
def test_any_order_of_deliveries_ends_with_the_newest_answers_and_one_new_person(case):
    """Responses of one person delivered in any order, some several times: the record ends with the
    newest response's answers, exactly one response is « new », and each response's conclusion is
    the same at every delivery."""
    count, order = case
    responses = [(f"tok-{n}", MONDAY + dt.timedelta(days=n), answers(capacity=n + 1)) for n in range(count)]
    record: Volunteer | None = None
    conclusions: dict[str, set[bool]] = {}
    for n in order:
        token, at, incoming = responses[n]
        plan = plan_sign_up(incoming, [record] if record else [], token, at)
        conclusions.setdefault(token, set()).add(plan.new)
        if plan.create is not None:
            record = stored(plan.create)
        elif plan.update is not None:
            assert record is not None
            record = stored(record.model_copy(update={k: getattr(plan.update, k)
                                                      for k in plan.update.model_fields_set - {"record_id"}}))
    assert record is not None and record.capacity == count  # the newest response's answer
    assert all(len(c) == 1 for c in conclusions.values())
    assert sum(c == {True} for c in conclusions.values()) == 1


def test_a_coordinators_edit_survives_a_replayed_sign_up(live):
    """The sign-up landed, then its Journal entry was lost (a crash before the last write); a
    coordinator corrected the capacity meanwhile. Reconcile finishes the sign-up and keeps the fix."""
    unplug_webhooks(live)
    token = live.submit("volunteer", VOLUNTEER)["token"]
    reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)
    [volunteer] = live.gateway.all(Volunteer)
    live.gateway.update([Volunteer(record_id=volunteer.record_id, capacity=5)])
    entry = Journal(live.gateway).find(token)
    live.gateway.table(JournalEntry).delete(entry.record_id)

    reconcile(bootstrap.intake(), TypeformClient(live.settings), live.settings)

    assert live.gateway.get(Volunteer, volunteer.record_id).capacity == 5
    assert Journal(live.gateway).find(token).status == "Traité"


def test_a_partial_response_event_does_not_take_the_responses_place(live):
    body = json.loads(payload_for(live, "volunteer"))
    partial = {**body, "event_type": "form_response_partial"}
    assert live.post_webhook(json.dumps(partial).encode()).json()["statut"] == "Rejeté"
    assert live.post_webhook(json.dumps(body).encode()).json()["statut"] == "Traité"
    assert len(live.gateway.all(Volunteer)) == 1
    refs = sorted(e.external_ref for e in journal(live))
    token = body["form_response"]["token"]
    assert refs == sorted([token, f"form_response_partial:{token}"])
