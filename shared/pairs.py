"""What happens to a binôme when something happens to it: one set of rules for every path.

Pure: takes the pair as it is and the event, returns the partial update to write (or None): what a
check-in does, which status may follow which (Proposé → Actif or Annulé; Actif ⇄ En difficulté ⇄
En pause; then Terminé, or Interrompu with a reason), what the need becomes, and who keeps a place
when two choices meet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas import options as opt
from schemas.records import CheckIn, Pair
from shared.airtable.diff import changes_to, update_of
from shared.errors import BinomeError

DIFFICULT = {opt.CheckInMood.DIFFICULT.value, opt.CheckInMood.VERY_DIFFICULT.value}
# A bad check-in puts a running pair « En difficulté »; a pair that has not started, is paused or
# is over keeps its status (the alert still tells coordinators).
AT_RISK_FROM = {opt.PairStatus.ACTIVE.value, opt.PairStatus.AT_RISK.value}
OVER = {opt.PairStatus.ENDED.value, opt.PairStatus.INTERRUPTED.value, opt.PairStatus.CANCELLED.value}
# A binôme that takes one of the mentor's places and the need's only place.
LIVE = {opt.PairStatus.PROPOSED.value, opt.PairStatus.ACTIVE.value, opt.PairStatus.AT_RISK.value,
        opt.PairStatus.PAUSED.value}


def is_worrying(check_in: CheckIn) -> bool:
    return check_in.needs_help or check_in.mood in DIFFICULT


def alert_for(check_in: CheckIn) -> str:
    assert check_in.date is not None
    return (f"Point du {check_in.date:%d/%m/%Y} : {check_in.mood or 'sans avis'}"
            + (" — besoin d'aide demandé" if check_in.needs_help else ""))


def after_check_in(pair: Pair, check_in: CheckIn) -> Pair | None:
    """The changes a check-in makes to its pair.

    `Dernier suivi` never moves backwards, and only the newest check-in speaks for the pair's state:
    an older one arriving late (a replay, a slow retry) is kept as a `Suivis` record and changes
    nothing else. A pair that is over is left as it is.
    """
    assert check_in.date is not None
    newest = pair.last_check_in is None or check_in.date >= pair.last_check_in
    if not newest or pair.status in OVER:
        return None
    desired = Pair(last_check_in=check_in.date)
    if is_worrying(check_in):
        desired.alert = alert_for(check_in)
        if pair.status in AT_RISK_FROM:
            desired.status = desired.known_status = opt.PairStatus.AT_RISK
    return changes_to(desired, pair)


# --- the lifecycle: one set of transitions for every path ---------------------------------------

S = opt.PairStatus
TRANSITIONS = {
    S.PROPOSED.value: {S.ACTIVE.value, S.CANCELLED.value},
    S.ACTIVE.value: {S.AT_RISK.value, S.PAUSED.value, S.ENDED.value, S.INTERRUPTED.value},
    S.AT_RISK.value: {S.ACTIVE.value, S.PAUSED.value, S.ENDED.value, S.INTERRUPTED.value},
    S.PAUSED.value: {S.ACTIVE.value, S.AT_RISK.value, S.ENDED.value, S.INTERRUPTED.value},
}
# What the need becomes when its binôme gets there: matched while the binôme lives, closed when
# it ended as planned, back to suggestions when it stopped early or never started.
NEED_AFTER = {S.ACTIVE.value: opt.NeedStatus.MATCHED, S.AT_RISK.value: opt.NeedStatus.MATCHED,
              S.PAUSED.value: opt.NeedStatus.MATCHED, S.ENDED.value: opt.NeedStatus.CLOSED,
              S.INTERRUPTED.value: opt.NeedStatus.OPEN, S.CANCELLED.value: opt.NeedStatus.OPEN}
NEEDS_A_REASON = {S.INTERRUPTED.value, S.CANCELLED.value}
INTERRUPTION_REASONS = (opt.PairReason.UNAVAILABLE, opt.PairReason.PUPIL_ABSENT, opt.PairReason.FALLING_OUT,
                        opt.PairReason.MOVED, opt.PairReason.GOAL_REACHED, opt.PairReason.OTHER)


class IllegalTransition(BinomeError):
    """The binôme cannot go there from where it is; the message says so, in French."""


def allowed(start: str | None, to: str) -> bool:
    return to in TRANSITIONS.get(str(start), set())


def refusal(start: str | None, to: str) -> str:
    """Why `start` → `to` is not allowed, in words a coordinator can act on."""
    if start in OVER:
        return (f"Le binôme est « {start} » : il ne peut plus changer de statut (« {to} » refusé). Pour reprendre "
                "l'accompagnement, créez un nouveau binôme.")
    possible = " », « ".join(sorted(TRANSITIONS.get(str(start), set())))
    return (f"Un binôme « {start} » ne peut pas passer à « {to} »" + (f" : seulement à « {possible} »." if possible
                                                                     else "."))


def move(pair: Pair, to: opt.PairStatus, **values: Any) -> Pair | None:
    """The update that takes `pair` to `to` (with `values`), or None if it is there already;
    refused when the rules do not allow it (a declined proposal cannot be accepted afterwards; an
    interruption says why). `Statut validé` follows, so a later hand edit can be told apart."""
    if pair.status == to.value:
        return None
    if not allowed(pair.status, to.value):
        raise IllegalTransition(refusal(pair.status, to.value))
    if to.value in NEEDS_A_REASON and not (values.get("reason") or pair.reason):
        raise IllegalTransition(f"Un binôme « {to.value} » a besoin d'un motif.")
    return update_of(pair, {"status": to, "known_status": to, **values})


def winners(pairs: list[Pair], places: int) -> list[Pair]:
    """Of live binômes competing for `places` (a mentor's, or a need's one), the ones that keep
    them: the first created (Airtable's time, then the id: the same answer in every process)."""
    ordered = sorted(pairs, key=lambda p: (p.created_time or dt.datetime.max.replace(tzinfo=dt.timezone.utc),
                                           p.record_id or ""))
    return ordered[:max(places, 0)]
