"""The binôme's lifecycle: every transition, legal or not, through the one module every path uses;
hand edits in Airtable applied when the rules allow them, flagged (never overwritten) when not."""

from __future__ import annotations

import itertools

import pytest

from schemas import options as opt
from schemas.records import JournalEntry, Need, Pair
from shared import bootstrap
from shared.airtable.diff import update_of
from shared.alerts import ALERT_PREFIX
from shared.followup.lifecycle import Lifecycle
from shared.pairs import IllegalTransition, move
from tests.test_matching_flow import campaign

S = opt.PairStatus
# The lifecycle as the issue states it, written out: (from, to) pairs that are allowed.
LEGAL = {(S.PROPOSED, S.ACTIVE), (S.PROPOSED, S.CANCELLED),
         *((a, b) for a in (S.ACTIVE, S.AT_RISK, S.PAUSED) for b in (S.ACTIVE, S.AT_RISK, S.PAUSED) if a != b),
         *((a, b) for a in (S.ACTIVE, S.AT_RISK, S.PAUSED) for b in (S.ENDED, S.INTERRUPTED))}


def pair(status: S) -> Pair:
    return Pair.from_airtable({"id": "recPair000000001", "createdTime": "2020-11-16T09:00:00.000Z",
                               "fields": {"Statut": status.value, "Statut validé": status.value}})


@pytest.mark.parametrize("start,to", [(a, b) for a, b in itertools.product(S, S) if a != b])
def test_every_transition_is_allowed_or_refused_in_french(start, to):
    if (start, to) in LEGAL:
        update = move(pair(start), to, reason=opt.PairReason.OTHER)
        assert update is not None and update.status == to and update.known_status == to
    else:
        with pytest.raises(IllegalTransition) as refused:
            move(pair(start), to, reason=opt.PairReason.OTHER)
        assert f"« {to.value} »" in str(refused.value)


def test_an_interruption_needs_a_reason():
    with pytest.raises(IllegalTransition, match="motif"):
        move(pair(S.ACTIVE), S.INTERRUPTED)
    assert move(pair(S.ACTIVE), S.INTERRUPTED, reason=opt.PairReason.FALLING_OUT).reason == "Mésentente"


def active_pair(live) -> tuple[Pair, Need]:
    lea, _, college, first = campaign(live)
    [made] = live.gateway.create([Pair(name="Léa × CJM-1", need=[first.record_id], volunteer=[lea.record_id],
                                       structure=[college.record_id], status=S.ACTIVE, known_status=S.ACTIVE)])
    live.gateway.update([update_of(first, {"status": opt.NeedStatus.MATCHED})])
    return made, live.gateway.get(Need, first.record_id)


def edit(live, made: Pair, **fields) -> list[Pair]:
    """A coordinator's hand edit in Airtable."""
    live.gateway.update([update_of(live.gateway.get(Pair, made.record_id), fields)])
    return live.gateway.all(Pair)


def lifecycle() -> Lifecycle:
    return Lifecycle(bootstrap.gateway(), bootstrap.alerts())


def test_a_hand_interruption_with_a_reason_frees_the_need(live):
    made, first = active_pair(live)
    pairs = edit(live, made, status=S.INTERRUPTED, reason=opt.PairReason.MOVED)
    report = lifecycle().notice_edits(pairs, {first.record_id: first})
    assert report.applied == [made.record_id]
    assert live.gateway.get(Pair, made.record_id).known_status == S.INTERRUPTED
    assert live.gateway.get(Need, first.record_id).status == opt.NeedStatus.OPEN
    again = lifecycle().notice_edits(live.gateway.all(Pair), {first.record_id: first})
    assert again.applied == [] and again.refused == []


def test_a_hand_edit_the_rules_refuse_is_flagged_not_overwritten(live):
    made, first = active_pair(live)
    edit(live, made, status=S.ENDED, known_status=S.ENDED)
    pairs = edit(live, made, status=S.ACTIVE)  # a binôme that ended cannot start again
    report = lifecycle().notice_edits(pairs, {first.record_id: first})
    flagged = live.gateway.get(Pair, made.record_id)
    assert report.refused == [made.record_id] and flagged.status == S.ACTIVE and flagged.known_status == S.ENDED
    assert "nouveau binôme" in flagged.alert
    alerts = [m for m in live.control("GET", "/outbox")["messages"] if "alerte" in m["categories"]]
    assert len(alerts) == 1
    lifecycle().notice_edits(live.gateway.all(Pair), {first.record_id: first})  # the next day: no second alert
    assert len([m for m in live.control("GET", "/outbox")["messages"] if "alerte" in m["categories"]]) == 1
    journal = [e for e in live.gateway.all(JournalEntry) if e.external_ref.startswith(ALERT_PREFIX)]
    assert len(journal) == 1


def test_an_interruption_without_a_reason_waits_for_one(live):
    made, first = active_pair(live)
    report = lifecycle().notice_edits(edit(live, made, status=S.INTERRUPTED), {first.record_id: first})
    assert report.waiting == [made.record_id]
    assert live.gateway.get(Need, first.record_id).status == opt.NeedStatus.MATCHED
    report = lifecycle().notice_edits(edit(live, made, reason=opt.PairReason.PUPIL_ABSENT), {first.record_id: first})
    assert report.applied == [made.record_id]
    assert live.gateway.get(Pair, made.record_id).alert == ""
    assert live.gateway.get(Need, first.record_id).status == opt.NeedStatus.OPEN


def test_a_need_with_another_live_binome_keeps_its_status(live):
    made, first = active_pair(live)
    [again] = live.gateway.create([Pair(name="Sam × CJM-1", need=[first.record_id], status=S.ACTIVE,
                                        known_status=S.ACTIVE)])  # a coordinator paired the pupil anew
    pairs = edit(live, made, status=S.INTERRUPTED, reason=opt.PairReason.UNAVAILABLE)
    assert lifecycle().notice_edits(pairs, {first.record_id: first}).applied == [made.record_id]
    assert live.gateway.get(Need, first.record_id).status == opt.NeedStatus.MATCHED


def test_a_binome_that_ended_closes_its_need(live):
    made, first = active_pair(live)
    assert lifecycle().notice_edits(edit(live, made, status=S.ENDED), {first.record_id: first}).applied
    assert live.gateway.get(Need, first.record_id).status == opt.NeedStatus.CLOSED
