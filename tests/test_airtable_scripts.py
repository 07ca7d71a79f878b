"""The Airtable automation scripts of `deploy/airtable/`, run under Node with Airtable's globals
against the local stack: each one's effect in the base, a wrong secret that fails the run red and
changes nothing, a replay refused, an unreachable function, a missing input, a missing Node."""

from __future__ import annotations

import shutil

import pytest

from schemas.records import JournalEntry, Need, Volunteer
from shared.journal import Journal
from tests import airtable_scripts
from tests.airtable_scripts import run_script
from tests.test_intake_webhook import VOLUNTEER
from tests.test_matching_flow import campaign
from tests.test_onboarding import WELCOME, outbox, volunteer

SUGGEST, RESEND, REPLAY = "suggerer-mentors.js", "renvoyer-accuse.js", "rejouer-journal.js"
FUNCTION_OF = {SUGGEST: "suggest_mentors", RESEND: "reconcile", REPLAY: "reconcile"}


def run(live, script: str, record_id: str, secret: str | None = None) -> airtable_scripts.ScriptRun:
    return run_script(script, recordId=record_id, functionUrl=f"{live.functions_url}/{FUNCTION_OF[script]}/",
                      secret=secret or live.settings.AUTOMATION_SECRET)


def rejected_sign_up(live) -> JournalEntry:
    """A sign-up rejected for twin records, the twin then deleted by a coordinator, and the entry's
    « Rejouer » box ticked: what the replay automation fires on."""
    live.gateway.create([Volunteer(full_name="Léa Martin", email="lea.martin@exemple.fr"),
                         Volunteer(full_name="Léa M.", email="lea.martin@exemple.fr")])
    token = live.submit("volunteer", VOLUNTEER)["token"]
    live.settle()
    entry = Journal(live.gateway).find(token)
    assert entry is not None and entry.status == "Rejeté"
    twins = [v for v in live.gateway.all(Volunteer) if v.email == "lea.martin@exemple.fr"]
    live.gateway.table(Volunteer).delete(twins[1].record_id)
    [entry] = live.gateway.update([JournalEntry(record_id=entry.record_id, replay_requested=True)])
    return entry


def test_the_suggest_script_writes_suggestions_for_its_need(live):
    lea, sam, college, first = campaign(live)
    ran = run(live, SUGGEST, first.record_id)
    assert ran.error is None and ran.outputs["statut"] == "Traité" and "1 liste(s) écrite(s)" in ran.outputs["detail"]
    written = live.gateway.get(Need, first.record_id)
    assert written.status == "Suggestions envoyées"
    assert set(written.suggested_mentors) == {lea.record_id, sam.record_id}


def test_the_resend_script_sends_once_however_often_it_runs(live):
    live.submit("volunteer", VOLUNTEER)
    live.settle()
    person = volunteer(live)
    live.gateway.update([Volunteer(record_id=person.record_id, resend_email=True)])
    first, second = run(live, RESEND, person.record_id), run(live, RESEND, person.record_id)
    assert first.error is None and "renvoyé" in first.outputs["detail"]
    assert second.error is None and "pas cochée" in second.outputs["detail"]
    live.settle()
    assert [m["subject"] for m in outbox(live)] == [WELCOME, WELCOME]
    assert volunteer(live).resend_email is False


def test_the_replay_script_replays_a_rejected_entry_and_unticks_its_box(live):
    entry = rejected_sign_up(live)
    ran = run(live, REPLAY, entry.record_id)
    assert ran.error is None and ran.outputs["statut"] == "Mis à jour"
    replayed = live.gateway.get(JournalEntry, entry.record_id)
    assert replayed.status == "Mis à jour" and replayed.replay_requested is False
    assert len(live.gateway.all(Volunteer)) == 1


def test_a_refused_replay_fails_the_run_with_the_reason(live):
    entry = rejected_sign_up(live)
    run(live, REPLAY, entry.record_id)
    live.gateway.update([JournalEntry(record_id=entry.record_id, replay_requested=True)])  # ticked once more
    again = run(live, REPLAY, entry.record_id)
    assert again.error is not None and again.error.startswith("Rejeu refusé")
    assert "seules les entrées « Rejeté » ou « Erreur » se rejouent" in again.error
    assert live.gateway.get(JournalEntry, entry.record_id).replay_requested is False  # ticking again asks again


def test_a_wrong_secret_fails_every_script_with_the_functions_message_and_changes_nothing(live):
    lea, sam, college, first = campaign(live)
    entry = rejected_sign_up(live)
    person = lea
    live.gateway.update([Volunteer(record_id=person.record_id, resend_email=True)])
    mails = len(outbox(live))
    for script, record_id in ((SUGGEST, first.record_id), (RESEND, person.record_id), (REPLAY, entry.record_id)):
        ran = run(live, script, record_id, secret="pas-le-bon-secret")
        assert ran.error == "binome a répondu 401 : signature ou secret invalide", script
        assert ran.outputs == {}
    live.settle()
    assert live.gateway.get(Need, first.record_id).suggested_mentors == []
    assert live.gateway.get(Volunteer, person.record_id).resend_email is True
    assert live.gateway.get(JournalEntry, entry.record_id).status == "Rejeté"
    assert len(outbox(live)) == mails


def test_an_unreachable_function_or_a_missing_input_fails_the_run_in_french():
    unreachable = run_script(SUGGEST, recordId="recX", functionUrl="http://127.0.0.1:9/suggest_mentors/", secret="s")
    assert unreachable.error is not None and unreachable.error.startswith("binome injoignable")
    unset = run_script(RESEND, recordId="recX", functionUrl="", secret="s")
    assert unset.error is not None and unset.error.startswith("Configuration incomplète")
    no_record = run_script(REPLAY, functionUrl="http://127.0.0.1:9/reconcile/", secret="s")
    assert no_record.error is not None and "« recordId » vide" in no_record.error


def test_the_scripts_share_one_call_to_binome():
    """Airtable scripts cannot import one another, so each carries the same closing helper: a fix
    to one must reach the three."""
    helpers = {(airtable_scripts.SCRIPTS / name).read_text(encoding="utf-8").split("// The same lines close")[1]
               for name in FUNCTION_OF}
    assert len(helpers) == 1


def test_a_missing_node_fails_instead_of_skipping(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="node not found"):
        airtable_scripts.node()
