"""The matching rules in plain Python, one pair at a time, as the issue states them: the oracle the
compiled engine is tested against, and the naive double loop its speed is measured against."""

from __future__ import annotations

import datetime as dt

from shared.matching.model import Mentor, Pupil
from shared.matching.places import band_of

IN_PERSON_MODES = ("Présentiel", "Les deux")
REMOTE_MODES = ("Distanciel", "Les deux")


def score(mentor: Mentor, pupil: Pupil, today: dt.date) -> float | None:
    """The pair's score, None when it does not fit."""
    if mentor.free <= 0 or pupil.level not in mentor.levels or mentor.id in pupil.excluded:
        return None
    subjects = set(pupil.subjects) & set(mentor.subjects)
    if pupil.subjects and not subjects:
        return None
    slots = set(pupil.slots) & set(mentor.slots)
    if not slots:
        return None
    distance = band_of(pupil.place, mentor.place)
    meets = pupil.mode in IN_PERSON_MODES and mentor.mode in IN_PERSON_MODES and distance <= mentor.max_band
    remote = pupil.mode in REMOTE_MODES and mentor.mode in REMOTE_MODES
    if not (meets or remote):
        return None
    overlap = len(subjects) / len(pupil.subjects) if pupil.subjects else 1.0
    proximity = (4 - distance) / 4 * (1 if meets else 0.3)
    waited = (today - mentor.registered.date()).days if mentor.registered else 0
    return (3 * min(len(slots), 3) / 3 + 2 * proximity + 2 * overlap + min(waited, 60) / 60
            + 1 / (1 + mentor.load))


def best(mentors: list[Mentor], pupil: Pupil, today: dt.date, k: int) -> list[tuple[float, str]]:
    """The naive double loop's inner loop: every mentor scored, the k best kept (score, then id)."""
    scored = []
    for mentor in mentors:
        value = score(mentor, pupil, today)
        if value is not None:
            scored.append((value, mentor.id))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return scored[:k]
