"""What must hold after a campaign, however many faults it went through: pure checks over what was
read from the base, the SendGrid outbox, DocuSign's envelopes and Typeform's responses.

Each check returns its violations, in French (a coordinator reads them in the run's report); an
empty list means it holds. The campaign under fire and its soak share them, and each one is shown
to fail on a crafted violation (tests/test_invariants.py).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Callable, Iterable

from schemas import options as opt
from schemas.records import CheckIn, JournalEntry, Need, Pair, Structure, Volunteer
from shared.journal import FINAL
from shared.pairs import LIVE, NEED_AFTER, NEEDS_A_REASON

KINDS = ("volunteer", "structure", "checkin")
# A binôme that has started holds its need: the need says so.
STARTED = {opt.PairStatus.ACTIVE.value, opt.PairStatus.AT_RISK.value, opt.PairStatus.PAUSED.value}


@dataclass(frozen=True)
class Response:
    """One completed Typeform response, as Typeform lists it."""

    token: str
    kind: str  # one of KINDS
    email: str = ""
    pupils: int = 0


@dataclass
class Observed:
    responses: list[Response]
    journal: list[JournalEntry]
    volunteers: list[Volunteer]
    structures: list[Structure]
    needs: list[Need]
    pairs: list[Pair]
    check_ins: list[CheckIn]
    welcomes: list[str]  # the recipient of each acknowledgement SendGrid accepted
    envelopes: list[str]  # the signer of each envelope DocuSign holds
    troubled_tokens: set[str] = field(default_factory=set)  # responses whose webhook failed at least once
    refused_over_limit: int = 0  # Airtable 429s for going over the rate limit (not injected, not a penalty)


def key(email: str) -> str:
    return email.strip().lower()


def people(seen: Observed) -> list[Volunteer | Structure]:
    return [*seen.volunteers, *seen.structures]


def responses_once(seen: Observed) -> list[str]:
    """Every response is in the base exactly once: one final Journal entry, one person per address,
    one need per pupil, one check-in per check-in response."""
    problems: list[str] = []
    entries = collections.Counter(e.external_ref for e in seen.journal if e.source == opt.JournalSource.TYPEFORM)
    status = {e.external_ref: e.status for e in seen.journal if e.source == opt.JournalSource.TYPEFORM}
    for response in seen.responses:
        if entries[response.token] != 1:
            problems.append(f"réponse {response.token} : {entries[response.token]} entrée(s) au Journal "
                            "au lieu d'une")
        elif status[response.token] not in FINAL:
            problems.append(f"réponse {response.token} : « {status[response.token]} » au Journal, pas traitée")
    applied = {r.token for r in seen.responses if status.get(r.token) in
               (opt.JournalStatus.DONE.value, opt.JournalStatus.UPDATED.value)}
    records: list[tuple[str, list[Volunteer] | list[Structure]]] = [("volunteer", seen.volunteers),
                                                                      ("structure", seen.structures)]
    for kind, of_kind in records:
        addresses = collections.Counter(key(p.email) for p in of_kind)
        problems += [f"{n} fiches pour {address}" for address, n in addresses.items() if n > 1]
        problems += [f"réponse {r.token} ({r.email}) traitée mais sans fiche" for r in seen.responses
                     if r.kind == kind and r.token in applied and key(r.email) not in addresses]
    pupils = {r.token: r.pupils for r in seen.responses if r.kind == "structure"}
    needs_of = collections.Counter(s for n in seen.needs for s in n.structure)
    for structure in seen.structures:
        expected, found = pupils.get(structure.typeform_token), needs_of[structure.record_id or ""]
        if expected is not None and found != expected:
            problems.append(f"{structure.name} : {found} besoin(s) pour {expected} élève(s)")
    problems += [f"{n} besoins de clé {k}" for k, n in collections.Counter(n.key for n in seen.needs).items()
                 if k and n > 1]
    check_ins = collections.Counter(c.typeform_token for c in seen.check_ins)
    problems += [f"réponse de suivi {r.token} : {check_ins[r.token]} point(s) d'étape au lieu d'un"
                 for r in seen.responses if r.kind == "checkin" and r.token in applied and check_ins[r.token] != 1]
    return problems


def uncertain(seen: Observed) -> list[str]:
    """The people whose acknowledgement is « Incertain »: a coordinator decides (never sent twice)."""
    return sorted(p.email for p in people(seen) if p.email_status == opt.EmailStatus.UNCERTAIN)


def one_welcome_one_envelope(seen: Observed) -> list[str]:
    """Each person got exactly one acknowledgement (or none and is listed « Incertain ») and exactly
    one envelope."""
    welcomes = collections.Counter(key(address) for address in seen.welcomes)
    envelopes = collections.Counter(key(address) for address in seen.envelopes)
    doubtful = {key(address) for address in uncertain(seen)}
    problems = []
    for person in people(seen):
        address = key(person.email)
        if welcomes[address] > 1 or (welcomes[address] == 0 and address not in doubtful):
            problems.append(f"{person.email} : {welcomes[address]} accusé(s) de réception")
        if envelopes[address] != 1:
            problems.append(f"{person.email} : {envelopes[address]} enveloppe(s) DocuSign")
    return problems


def places_and_states(seen: Observed) -> list[str]:
    """No mentor over capacity, no need with two live binômes, no binôme in an impossible state."""
    live = [p for p in seen.pairs if p.status in LIVE]
    capacity = {v.record_id: v.capacity or 0 for v in seen.volunteers}
    by_mentor = collections.Counter(m for p in live for m in p.volunteer)
    problems = [f"bénévole {m} : {n} binômes vivants pour {capacity.get(m, 0)} place(s)"
                for m, n in by_mentor.items() if n > capacity.get(m, 0)]
    by_need = collections.Counter(n for p in live for n in p.need)
    problems += [f"besoin {n} : {count} binômes vivants" for n, count in by_need.items() if count > 1]
    needs = {n.record_id: n for n in seen.needs}
    for pair in seen.pairs:
        problems += [f"binôme {pair.name or pair.record_id} : {why}" for why in impossible(pair, needs)]
    return problems


def impossible(pair: Pair, needs: dict[str | None, Need]) -> list[str]:
    """What is wrong with this binôme's state on its own and against its need."""
    why = []
    if pair.status is None:
        why.append("sans statut")
    elif pair.known_status != pair.status:
        why.append(f"statut « {pair.status} » mais statut validé « {pair.known_status} »")
    if len(pair.need) != 1 or len(pair.volunteer) != 1:
        why.append(f"{len(pair.need)} besoin(s) et {len(pair.volunteer)} bénévole(s) liés")
    if pair.status in NEEDS_A_REASON and not pair.reason:
        why.append(f"« {pair.status} » sans motif")
    need = needs.get(pair.need[0]) if len(pair.need) == 1 else None
    if need is not None and pair.status in STARTED and need.status != NEED_AFTER[str(pair.status)]:
        why.append(f"« {pair.status} » mais son besoin est « {need.status} »")
    return why


def failures_followed_up(seen: Observed) -> list[str]:
    """Every failure left a Journal entry, and every entry marked for retry was retried: no response
    is left « Erreur » (reconcile retries those) or ticked « Rejouer », no send left « Échec », and
    every response whose webhook failed has its final entry. (The notes of a function's failed
    request, « échec:… », stay « Erreur » for coordinators: the sender retries the request itself.)"""
    problems = [f"Journal {e.external_ref} : « {e.status} » ({e.attempts or 1} essai(s))" for e in seen.journal
                if e.status == opt.JournalStatus.ERROR and e.source == opt.JournalSource.TYPEFORM]
    problems += [f"Journal {e.external_ref} : « Rejouer » coché mais pas rejoué" for e in seen.journal
                 if e.replay_requested]
    for person in people(seen):
        if person.email_status == opt.EmailStatus.FAILED or person.envelope_status == opt.EnvelopeStatus.FAILED:
            problems.append(f"{person.email} : envoi en « Échec » jamais repris")
    final = {e.external_ref for e in seen.journal if e.status in FINAL}
    problems += [f"réponse {token} : webhook en échec et rien au Journal" for token in sorted(seen.troubled_tokens)
                 if token not in final]
    return problems


def no_self_inflicted_429(seen: Observed) -> list[str]:
    """Our paced work never went over Airtable's limit: every 429 was injected or a penalty's."""
    return [f"{seen.refused_over_limit} requête(s) Airtable refusée(s) pour dépassement de la limite"] \
        if seen.refused_over_limit else []


def doubled_entries(seen: Observed) -> list[str]:
    """Journal references written more than once (the Journal upserts on them: one entry each)."""
    return sorted(ref for ref, n in collections.Counter(e.external_ref for e in seen.journal).items() if n > 1)


def tallies(seen: Observed) -> dict[str, int]:
    """The run's bottom line: responses lost (no final entry, or applied without their record),
    items doubled (entries, people, acknowledgements, envelopes beyond one), mentors over capacity."""
    status = {e.external_ref: e.status for e in seen.journal}
    entries = collections.Counter(e.external_ref for e in seen.journal)
    addresses = collections.Counter(key(p.email) for p in people(seen))
    applied = [r for r in seen.responses if status.get(r.token) in
               (opt.JournalStatus.DONE.value, opt.JournalStatus.UPDATED.value) and r.kind != "checkin"]
    welcomes, envelopes = collections.Counter(map(key, seen.welcomes)), collections.Counter(map(key, seen.envelopes))
    live = collections.Counter(m for p in seen.pairs if p.status in LIVE for m in p.volunteer)
    capacity = {v.record_id: v.capacity or 0 for v in seen.volunteers}
    return {
        "lost": sum(1 for r in seen.responses if status.get(r.token) not in FINAL)
        + sum(1 for r in applied if key(r.email) not in addresses),
        "doubled": sum(n - 1 for counter in (entries, addresses, welcomes, envelopes) for n in counter.values()
                       if n > 1),
        "over_capacity": sum(1 for m, n in live.items() if n > capacity.get(m, 0)),
    }


CHECKS: dict[str, Callable[[Observed], list[str]]] = {
    "chaque réponse une fois dans la base": responses_once,
    "un accusé et une enveloppe par personne": one_welcome_one_envelope,
    "places et états des binômes": places_and_states,
    "échecs journalisés et repris": failures_followed_up,
    "aucun 429 de notre fait": no_self_inflicted_429,
}


def violations(seen: Observed, checks: Iterable[str] = CHECKS) -> dict[str, list[str]]:
    """Each invariant's violations (only those that have some)."""
    found = {name: CHECKS[name](seen) for name in checks}
    return {name: problems for name, problems in found.items() if problems}
