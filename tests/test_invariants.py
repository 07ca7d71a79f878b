"""The campaign's invariants (`local/invariants.py`) hold on a clean campaign and each one fails on
the violation it is there for: a doubled person, a response missing, a need too many, an
acknowledgement sent twice, an envelope missing, a mentor over capacity, two live binômes on a
need, binômes in impossible states, an error left unretried, a 429 of our own making."""

from __future__ import annotations

import copy

import pytest

from local.invariants import CHECKS, Observed, Response, uncertain, violations
from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Need, Pair, Structure, Volunteer

S = opt.PairStatus


def rid(n: int) -> str:
    return f"rec{n:014d}"


def entry(token: str, status: opt.JournalStatus = opt.JournalStatus.DONE,
          source: opt.JournalSource = opt.JournalSource.TYPEFORM) -> JournalEntry:
    return JournalEntry(external_ref=token, source=source, status=status)


def person(model: type, n: int, email: str, token: str, **values: object) -> object:
    return model(id=rid(n), email=email, typeform_token=token, email_status=opt.EmailStatus.DELIVERED,
                 envelope_status=opt.EnvelopeStatus.SIGNED, **values)


def clean() -> Observed:
    """Two mentors (one place, two places), a school with two pupils, one binôme each way it can
    be, a second sign-up, a rejected answer and a check-in."""
    responses = [Response("t-ana", "volunteer", "ana@exemple.fr"), Response("t-bob", "volunteer", "bob@exemple.fr"),
                 Response("t-ana-2", "volunteer", "ana@exemple.fr"), Response("t-bad", "volunteer", "x@exemple.fr"),
                 Response("t-cjm", "structure", "cdi@college.fr", pupils=2), Response("t-point", "checkin")]
    journal = [entry("t-ana"), entry("t-bob"), entry("t-ana-2", opt.JournalStatus.UPDATED),
               entry("t-bad", opt.JournalStatus.REJECTED), entry("t-cjm"), entry("t-point"),
               entry("échec:first_contact:abc", opt.JournalStatus.ERROR, opt.JournalSource.BINOME)]
    ana = person(Volunteer, 1, "ana@exemple.fr", "t-ana-2", capacity=1)
    bob = person(Volunteer, 2, "Bob@exemple.fr", "t-bob", capacity=2)
    college = person(Structure, 3, "cdi@college.fr", "t-cjm", name="Collège Jean-Moulin")
    needs = [Need(id=rid(4), structure=[rid(3)], key="t-cjm:1", status=opt.NeedStatus.MATCHED),
             Need(id=rid(5), structure=[rid(3)], key="t-cjm:2", status=opt.NeedStatus.CHOSEN)]
    pairs = [Pair(id=rid(6), name="Ana × CJM-1", need=[rid(4)], volunteer=[rid(1)], status=S.ACTIVE,
                  known_status=S.ACTIVE),
             Pair(id=rid(7), name="Bob × CJM-2", need=[rid(5)], volunteer=[rid(2)], status=S.PROPOSED,
                  known_status=S.PROPOSED),
             Pair(id=rid(8), name="Bob × CJM-1", need=[rid(4)], volunteer=[rid(2)], status=S.CANCELLED,
                  known_status=S.CANCELLED, reason=opt.PairReason.UNAVAILABLE)]
    check_ins = [CheckIn(id=rid(9), pair=[rid(6)], typeform_token="t-point")]
    return Observed(responses=responses, journal=journal, volunteers=[ana, bob], structures=[college],
                    needs=needs, pairs=pairs, check_ins=check_ins,
                    welcomes=["ana@exemple.fr", "bob@exemple.fr", "cdi@college.fr"],
                    envelopes=["ana@exemple.fr", "bob@exemple.fr", "cdi@college.fr"], troubled_tokens={"t-bob"})


def test_a_clean_campaign_breaks_no_invariant():
    assert violations(clean()) == {}


def broken(change) -> dict[str, list[str]]:
    seen = copy.deepcopy(clean())
    change(seen)
    return violations(seen)


def only(found: dict[str, list[str]], name: str) -> list[str]:
    assert set(found) == {name}, found
    return found[name]


ONCE, MAIL, PLACES, FAILURES, RATE = CHECKS


def test_a_doubled_person_is_found():
    problems = only(broken(lambda s: s.volunteers.append(person(Volunteer, 10, "ANA@exemple.fr", "t-ana"))), ONCE)
    assert problems == ["2 fiches pour ana@exemple.fr"]


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.journal.pop(0), "réponse t-ana : 0 entrée(s) au Journal au lieu d'une"),
    (lambda s: s.journal.append(entry("t-bob")), "réponse t-bob : 2 entrée(s) au Journal au lieu d'une"),
    (lambda s: s.structures.clear() or s.welcomes.remove("cdi@college.fr") or s.envelopes.remove("cdi@college.fr"),
     "réponse t-cjm (cdi@college.fr) traitée mais sans fiche"),
    (lambda s: s.needs.pop(), "Collège Jean-Moulin : 1 besoin(s) pour 2 élève(s)"),
    (lambda s: s.check_ins.append(CheckIn(id=rid(11), typeform_token="t-point")),
     "réponse de suivi t-point : 2 point(s) d'étape au lieu d'un"),
    (lambda s: s.check_ins.clear(), "réponse de suivi t-point : 0 point(s) d'étape au lieu d'un"),
], ids=["response-missing", "response-twice", "structure-missing", "need-missing", "check-in-doubled",
        "check-in-missing"])
def test_a_response_missing_or_doubled_is_found(change, expected):
    assert expected in only(broken(change), ONCE)


def test_a_need_with_a_doubled_key_is_found():
    def twin_need(s: Observed) -> None:
        s.needs.append(Need(id=rid(12), structure=[rid(3)], key="t-cjm:1"))
        s.responses[4] = Response("t-cjm", "structure", "cdi@college.fr", pupils=3)
    assert only(broken(twin_need), ONCE) == ["2 besoins de clé t-cjm:1"]


def test_a_response_left_unprocessed_is_found():
    def in_error(s: Observed) -> None:
        s.journal[1] = entry("t-bob", opt.JournalStatus.ERROR)
    found = broken(in_error)
    assert "réponse t-bob : « Erreur » au Journal, pas traitée" in found[ONCE]
    assert "Journal t-bob : « Erreur » (1 essai(s))" in found[FAILURES]


def test_an_acknowledgement_sent_twice_is_found():
    assert only(broken(lambda s: s.welcomes.append("ana@exemple.fr")), MAIL) == \
        ["ana@exemple.fr : 2 accusé(s) de réception"]


def test_an_acknowledgement_missing_is_found_unless_a_coordinator_has_it_as_uncertain():
    assert only(broken(lambda s: s.welcomes.remove("bob@exemple.fr")), MAIL) == \
        ["Bob@exemple.fr : 0 accusé(s) de réception"]

    def uncertain_send(s: Observed) -> None:
        s.welcomes.remove("bob@exemple.fr")
        s.volunteers[1].email_status = opt.EmailStatus.UNCERTAIN
    assert broken(uncertain_send) == {}
    seen = clean()
    seen.volunteers[1].email_status = opt.EmailStatus.UNCERTAIN
    assert uncertain(seen) == ["Bob@exemple.fr"]


@pytest.mark.parametrize("change, count", [(lambda s: s.envelopes.pop(), 0),
                                           (lambda s: s.envelopes.append("cdi@college.fr"), 2)])
def test_an_envelope_missing_or_doubled_is_found(change, count):
    assert only(broken(change), MAIL) == [f"cdi@college.fr : {count} enveloppe(s) DocuSign"]


def test_a_mentor_over_capacity_is_found():
    def second_pair(s: Observed) -> None:
        s.needs.append(Need(id=rid(13), structure=[rid(3)], key="t-cjm:3", status=opt.NeedStatus.CHOSEN))
        s.responses[4] = Response("t-cjm", "structure", "cdi@college.fr", pupils=3)
        s.pairs.append(Pair(id=rid(14), need=[rid(13)], volunteer=[rid(1)], status=S.PROPOSED, known_status=S.PROPOSED))
    assert only(broken(second_pair), PLACES) == [f"bénévole {rid(1)} : 2 binômes vivants pour 1 place(s)"]


def test_two_live_binomes_on_a_need_are_found():
    def revive(s: Observed) -> None:
        s.pairs[2].status = s.pairs[2].known_status = S.PROPOSED
    assert only(broken(revive), PLACES) == [f"besoin {rid(4)} : 2 binômes vivants"]


@pytest.mark.parametrize("change, why", [
    (lambda p: setattr(p, "reason", None), "« Annulé » sans motif"),
    (lambda p: setattr(p, "known_status", S.PROPOSED), "statut « Annulé » mais statut validé « Proposé »"),
    (lambda p: setattr(p, "status", None) or setattr(p, "known_status", None), "sans statut"),
    (lambda p: setattr(p, "volunteer", []), "1 besoin(s) et 0 bénévole(s) liés"),
], ids=["no-reason", "status-not-validated", "no-status", "no-mentor"])
def test_a_binome_in_an_impossible_state_is_found(change, why):
    assert only(broken(lambda s: change(s.pairs[2])), PLACES) == [f"binôme Bob × CJM-1 : {why}"]


def test_an_active_binome_whose_need_is_not_matched_is_found():
    def reopen(s: Observed) -> None:
        s.needs[0].status = opt.NeedStatus.OPEN
    assert only(broken(reopen), PLACES) == ["binôme Ana × CJM-1 : « Actif » mais son besoin est « À pourvoir »"]


@pytest.mark.parametrize("change, expected", [
    (lambda s: setattr(s.journal[0], "replay_requested", True),
     "Journal t-ana : « Rejouer » coché mais pas rejoué"),
    (lambda s: setattr(s.volunteers[0], "email_status", opt.EmailStatus.FAILED),
     "ana@exemple.fr : envoi en « Échec » jamais repris"),
    (lambda s: setattr(s.structures[0], "envelope_status", opt.EnvelopeStatus.FAILED),
     "cdi@college.fr : envoi en « Échec » jamais repris"),
    (lambda s: s.troubled_tokens.add("t-lost"), "réponse t-lost : webhook en échec et rien au Journal"),
], ids=["replay-not-done", "email-failed", "envelope-failed", "failed-webhook-unjournaled"])
def test_a_failure_not_followed_up_is_found(change, expected):
    assert only(broken(change), FAILURES) == [expected]


def test_a_429_of_our_own_making_is_found():
    assert only(broken(lambda s: setattr(s, "refused_over_limit", 3)), RATE) == \
        ["3 requête(s) Airtable refusée(s) pour dépassement de la limite"]
