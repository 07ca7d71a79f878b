"""The short campaign under fire (`local/fire.py`, the soak's little sibling): 200 volunteers and
20 structures through the stack, the functions in a process of their own killed once between two
writes, random faults of every kind on every step, webhooks twice, late and out of order, 3 weeks
of follow-up; then reconcile and every invariant of `local/invariants.py`. Its figures are shown
at the end of the session (`pytest_terminal_summary` in conftest), with or without `-s`."""

from __future__ import annotations

import pytest

from local import fire

FIGURES = pytest.StashKey[list[str]]()


def test_the_short_campaign_under_fire_loses_nothing_doubles_nothing_overfills_no_one(pytestconfig):
    lines: list[str] = []
    outcome = fire.run(fire.SHORT, seed=2020, say=lines.append)
    pytestconfig.stash[FIGURES] = lines
    report = "\n".join(lines)
    assert outcome.violations == {}, report
    counts = outcome.counts
    assert (counts["lost"], counts["doubled"], counts["over_capacity"], counts["refused_over_limit"]) == \
        (0, 0, 0, 0), report
    # The fire was real: the kill happened, faults of many kinds were taken, twins were delivered.
    assert counts["kills"] == 1 and counts["faults"] >= fire.SHORT.faults and counts["fault_kinds"] >= 6, report
    assert counts["twins_delivered"] > 0, report
