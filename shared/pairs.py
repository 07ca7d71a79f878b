"""What happens to a binôme when something happens to it: one set of rules for every path.

Pure: takes the pair as it is and the event, returns the partial update to write (or None). The
follow-up work grows this into the binôme's whole lifecycle; today it knows what a check-in does.
"""

from __future__ import annotations

from schemas import options as opt
from schemas.records import CheckIn, Pair
from shared.airtable.diff import changes_to

DIFFICULT = {opt.CheckInMood.DIFFICULT.value, opt.CheckInMood.VERY_DIFFICULT.value}
# A bad check-in puts a running pair « En difficulté »; a pair that has not started, is paused or
# is over keeps its status (the alert still tells coordinators).
AT_RISK_FROM = {opt.PairStatus.ACTIVE.value, opt.PairStatus.AT_RISK.value}
OVER = {opt.PairStatus.ENDED.value, opt.PairStatus.CANCELLED.value}


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
            desired.status = opt.PairStatus.AT_RISK
    return changes_to(desired, pair)
