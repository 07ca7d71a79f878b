"""The check-in schedule: two weeks after the start, then monthly, across month ends, leap years,
summer time and missed runs."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from shared.followup.schedule import Rhythm, paris_day

RHYTHM = Rhythm()


def test_first_after_two_weeks_then_monthly_on_the_same_day():
    start = dt.date(2020, 11, 16)
    assert [RHYTHM.due(start, n) for n in range(4)] == [dt.date(2020, 11, 30), dt.date(2020, 12, 30),
                                                        dt.date(2021, 1, 30), dt.date(2021, 2, 28)]


def test_the_31st_falls_back_to_the_months_end_and_comes_back():
    start = dt.date(2020, 12, 17)  # first check-in on 31 December
    assert [RHYTHM.due(start, n) for n in range(5)] == [dt.date(2020, 12, 31), dt.date(2021, 1, 31),
                                                        dt.date(2021, 2, 28), dt.date(2021, 3, 31), dt.date(2021, 4, 30)]
    leap = dt.date(2024, 1, 17)
    assert RHYTHM.due(leap, 1) == dt.date(2024, 2, 29)


@given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)), st.integers(0, 800))
def test_the_latest_due_is_the_last_one_not_after_today(start, days):
    today = start + dt.timedelta(days=days)
    latest = RHYTHM.latest(start, today)
    if latest is None:
        assert today < RHYTHM.due(start, 0)
        assert RHYTHM.next(start, today) == RHYTHM.due(start, 0)
    else:
        n, due = latest
        assert due == RHYTHM.due(start, n) <= today < RHYTHM.due(start, n + 1)
        assert RHYTHM.next(start, today) == RHYTHM.due(start, n + 1)


def test_a_day_is_a_day_in_paris_across_summer_time():
    # 23:30 UTC on the night clocks go forward (28 March 2021) is already the 29th in Paris.
    assert paris_day(dt.datetime(2021, 3, 28, 23, 30, tzinfo=dt.timezone.utc)) == dt.date(2021, 3, 29)
    # 22:30 UTC the night they go back (31 October 2021) is 23:30 in Paris: still the 31st.
    assert paris_day(dt.datetime(2021, 10, 31, 22, 30, tzinfo=dt.timezone.utc)) == dt.date(2021, 10, 31)
    assert paris_day(dt.datetime(2021, 10, 31, 23, 30, tzinfo=dt.timezone.utc)) == dt.date(2021, 11, 1)
