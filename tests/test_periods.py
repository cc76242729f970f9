"""The reporting calendar and timeliness rules of DOMAIN.md, over plain dates (grants.periods)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.periods import (
    EASTERN,
    TIMELINESS,
    TIMELINESS_LABELS,
    days_overdue,
    deadline_instant,
    deadline_phrase,
    eastern_today,
    effective_due_date,
    fiscal_year_bounds,
    fiscal_year_of,
    half_bounds,
    half_of,
    is_late,
    rates,
    reporting_periods,
    timeliness,
)


def eastern(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=EASTERN)


# --- fiscal years and halves ---------------------------------------------------------------------

@pytest.mark.parametrize(("day", "fy"), [
    (date(2024, 9, 30), 2024), (date(2024, 10, 1), 2025), (date(2024, 12, 31), 2025),
    (date(2025, 1, 1), 2025), (date(2025, 9, 30), 2025),
])
def test_fiscal_year_starts_on_october_first(day, fy):
    assert fiscal_year_of(day) == fy


@pytest.mark.parametrize(("day", "half"), [
    (date(2024, 10, 1), "H1"), (date(2025, 3, 31), "H1"), (date(2025, 4, 1), "H2"),
    (date(2025, 9, 30), "H2"), (date(2025, 1, 15), "H1"),
])
def test_first_half_is_october_to_march_and_second_april_to_september(day, half):
    assert half_of(day) == half


def test_half_bounds_are_the_calendar_halves_of_the_fiscal_year():
    assert half_bounds(2025, "H1") == (date(2024, 10, 1), date(2025, 3, 31))
    assert half_bounds(2025, "H2") == (date(2025, 4, 1), date(2025, 9, 30))
    assert fiscal_year_bounds(2025) == (date(2024, 10, 1), date(2025, 9, 30))


def test_unknown_half_is_refused():
    with pytest.raises(ValueError):
        half_bounds(2025, "H3")


# --- reporting periods -----------------------------------------------------------------------------

def test_three_year_award_has_six_periods_ending_with_the_final_report():
    periods = reporting_periods(date(2024, 10, 1), date(2027, 9, 30))
    assert [p.label for p in periods] == [
        "FY2025 H1", "FY2025 H2", "FY2026 H1", "FY2026 H2", "FY2027 H1", "FY2027 H2"]
    assert [p.report_type for p in periods] == ["interim"] * 5 + ["final"]
    first = periods[0]
    assert (first.start, first.end, first.due_date) == (date(2024, 10, 1), date(2025, 3, 31), date(2025, 4, 30))
    second = periods[1]
    assert (second.start, second.end, second.due_date) == (date(2025, 4, 1), date(2025, 9, 30), date(2025, 10, 30))


def test_interim_report_is_due_30_days_after_the_period_ends():
    for p in reporting_periods(date(2024, 10, 1), date(2027, 9, 30))[:-1]:
        assert p.due_date == p.end + timedelta(days=30)
        assert (p.due_date.month, p.due_date.day) in ((4, 30), (10, 30))


def test_final_report_is_due_120_days_after_the_end_of_performance():
    final = reporting_periods(date(2024, 10, 1), date(2027, 9, 30))[-1]
    assert final.report_type == "final"
    assert final.due_date == date(2028, 1, 28)


def test_award_starting_mid_period_clips_its_first_period():
    periods = reporting_periods(date(2025, 1, 15), date(2026, 9, 30))
    assert periods[0].label == "FY2025 H1"
    assert (periods[0].start, periods[0].end) == (date(2025, 1, 15), date(2025, 3, 31))
    assert periods[0].due_date == date(2025, 4, 30)
    assert periods[1].start == date(2025, 4, 1)


def test_award_ending_mid_period_makes_a_clipped_final_report():
    periods = reporting_periods(date(2024, 10, 1), date(2025, 6, 15))
    assert [p.label for p in periods] == ["FY2025 H1", "FY2025 H2"]
    final = periods[-1]
    assert (final.start, final.end, final.report_type) == (date(2025, 4, 1), date(2025, 6, 15), "final")
    assert final.due_date == date(2025, 6, 15) + timedelta(days=120) == date(2025, 10, 13)


def test_award_within_one_period_has_a_single_final_report():
    periods = reporting_periods(date(2024, 11, 1), date(2025, 2, 28))
    assert len(periods) == 1
    only = periods[0]
    assert (only.start, only.end, only.report_type) == (date(2024, 11, 1), date(2025, 2, 28), "final")
    assert only.due_date == date(2025, 6, 28)


def test_one_day_award_has_one_final_report():
    periods = reporting_periods(date(2025, 3, 31), date(2025, 3, 31))
    assert [(p.start, p.end, p.report_type) for p in periods] == [(date(2025, 3, 31), date(2025, 3, 31), "final")]


def test_award_ending_exactly_september_30_has_a_full_final_second_half():
    periods = reporting_periods(date(2025, 4, 1), date(2025, 9, 30))
    assert [(p.label, p.start, p.end, p.report_type) for p in periods] == [
        ("FY2025 H2", date(2025, 4, 1), date(2025, 9, 30), "final")]
    assert periods[0].due_date == date(2026, 1, 28)


def test_award_ending_exactly_march_31_has_no_report_for_the_next_half():
    periods = reporting_periods(date(2024, 4, 1), date(2026, 3, 31))
    assert periods[-1].label == "FY2026 H1"
    assert (periods[-1].end, periods[-1].report_type) == (date(2026, 3, 31), "final")
    assert periods[-1].due_date == date(2026, 7, 29)
    assert all(p.report_type == "interim" for p in periods[:-1])


def test_final_period_ending_on_leap_day_is_clipped_and_due_120_days_later():
    periods = reporting_periods(date(2026, 10, 1), date(2028, 2, 29))
    final = periods[-1]
    assert (final.label, final.start, final.end) == ("FY2028 H1", date(2027, 10, 1), date(2028, 2, 29))
    assert final.due_date == date(2028, 6, 28)


def test_leap_year_first_half_still_ends_march_31_and_is_due_april_30():
    h1 = reporting_periods(date(2027, 10, 1), date(2029, 9, 30))[0]
    assert (h1.start, h1.end, h1.due_date) == (date(2027, 10, 1), date(2028, 3, 31), date(2028, 4, 30))
    assert (h1.end - h1.start).days + 1 == 183


def test_award_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        reporting_periods(date(2025, 5, 1), date(2025, 4, 30))


@given(
    start=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
    length=st.integers(min_value=0, max_value=6 * 366),
)
def test_periods_tile_the_period_of_performance_with_one_final_report_at_the_end(start, length):
    end = start + timedelta(days=length)
    periods = reporting_periods(start, end)
    assert periods[0].start == start
    assert periods[-1].end == end
    for before, after in zip(periods, periods[1:]):
        assert after.start == before.end + timedelta(days=1)
    for p in periods:
        h_start, h_end = half_bounds(p.fiscal_year, p.half)
        assert h_start <= p.start <= p.end <= h_end
        if p.report_type == "interim":
            assert p.end == h_end
            assert p.due_date == p.end + timedelta(days=30)
    assert [p.report_type for p in periods].count("final") == 1
    assert periods[-1].report_type == "final"
    assert periods[-1].due_date == end + timedelta(days=120)


# --- effective due date and the deadline instant -----------------------------------------------

def test_effective_due_date_without_extension_is_the_due_date():
    assert effective_due_date(date(2026, 4, 30), None) == date(2026, 4, 30)


def test_effective_due_date_with_extension_is_the_extended_date():
    assert effective_due_date(date(2026, 4, 30), date(2026, 5, 30)) == date(2026, 5, 30)


def test_extension_earlier_than_the_due_date_never_shortens_it():
    assert effective_due_date(date(2026, 4, 30), date(2026, 4, 1)) == date(2026, 4, 30)


def test_deadline_is_the_end_of_235959_eastern_standard_time_in_winter():
    assert deadline_instant(date(2026, 1, 15)) == datetime(2026, 1, 16, 4, 59, 59, 999999, tzinfo=UTC)


def test_deadline_is_the_end_of_235959_eastern_daylight_time_in_summer():
    assert deadline_instant(date(2026, 4, 30)) == datetime(2026, 5, 1, 3, 59, 59, 999999, tzinfo=UTC)


def test_submission_within_the_last_second_is_on_time():
    assert not is_late(datetime(2026, 5, 1, 3, 59, 59, 400000, tzinfo=UTC), date(2026, 4, 30))
    assert is_late(datetime(2026, 5, 1, 4, 0, 0, tzinfo=UTC), date(2026, 4, 30))


@pytest.mark.parametrize("due", [
    date(2026, 1, 15),   # EST
    date(2026, 4, 30),   # EDT
    date(2026, 3, 8),    # the day clocks spring forward
    date(2026, 11, 1),   # the day clocks fall back
    date(2028, 2, 29),   # leap day
])
def test_submission_at_235959_eastern_is_on_time_and_at_midnight_is_late(due):
    last_second = eastern(due.year, due.month, due.day, 23, 59, 59)
    next_midnight = datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=EASTERN)
    assert not is_late(last_second, due)
    assert not is_late(last_second.astimezone(UTC), due)
    assert is_late(next_midnight, due)
    assert is_late(next_midnight.astimezone(UTC), due)
    assert timeliness("submitted", last_second, due, due + timedelta(days=3)) == "submitted_on_time"
    assert timeliness("submitted", next_midnight, due, due + timedelta(days=3)) == "submitted_late"


def test_submission_at_utc_midnight_on_the_due_date_is_still_on_time():
    # 00:30 UTC on May 1 is 20:30 EDT on April 30: still within the due date in Eastern time.
    assert not is_late(datetime(2026, 5, 1, 0, 30, tzinfo=UTC), date(2026, 4, 30))


def test_eastern_today_uses_eastern_calendar_day():
    assert eastern_today(datetime(2026, 5, 1, 3, 0, tzinfo=UTC)) == date(2026, 4, 30)
    assert eastern_today(datetime(2026, 5, 1, 4, 0, tzinfo=UTC)) == date(2026, 5, 1)
    assert eastern_today(datetime(2026, 1, 16, 4, 59, tzinfo=UTC)) == date(2026, 1, 15)


# --- timeliness states ---------------------------------------------------------------------------

DUE = date(2026, 4, 30)


@pytest.mark.parametrize(("today", "state"), [
    (DUE - timedelta(days=60), "open"),
    (DUE - timedelta(days=15), "open"),
    (DUE - timedelta(days=14), "due_soon"),
    (DUE - timedelta(days=1), "due_soon"),
    (DUE, "due_soon"),
    (DUE + timedelta(days=1), "overdue"),
    (DUE + timedelta(days=400), "overdue"),
])
def test_unsubmitted_report_is_open_then_due_soon_within_14_days_then_overdue(today, state):
    for status in ("not_started", "draft"):
        assert timeliness(status, None, DUE, today) == state


def test_excused_report_is_excused_whatever_its_dates():
    assert timeliness("excused", None, DUE, DUE + timedelta(days=90)) == "excused"
    assert timeliness("excused", eastern(2026, 6, 1, 12), DUE, DUE + timedelta(days=90)) == "excused"


def test_timeliness_is_judged_on_the_first_submission_even_after_a_return():
    on_time = eastern(2026, 4, 29, 9)
    assert timeliness("returned", on_time, DUE, date(2026, 6, 1)) == "submitted_on_time"
    assert timeliness("draft", on_time, DUE, date(2026, 6, 1)) == "submitted_on_time"
    assert timeliness("accepted", on_time, DUE, date(2026, 6, 1)) == "submitted_on_time"


def test_submission_after_the_due_date_but_within_an_extension_is_on_time():
    extended = effective_due_date(DUE, date(2026, 5, 30))
    submitted = eastern(2026, 5, 20, 10)
    assert timeliness("submitted", submitted, DUE, date(2026, 6, 1)) == "submitted_late"
    assert timeliness("submitted", submitted, extended, date(2026, 6, 1)) == "submitted_on_time"


def test_extension_moves_an_overdue_report_back_to_due_soon():
    today = date(2026, 5, 20)
    assert timeliness("draft", None, DUE, today) == "overdue"
    assert timeliness("draft", None, effective_due_date(DUE, date(2026, 5, 30)), today) == "due_soon"


def test_every_timeliness_state_has_a_label():
    assert set(TIMELINESS_LABELS) == set(TIMELINESS)


# --- deadline phrases ----------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "phrase"), [
    (DUE - timedelta(days=30), "Due in 30 days, on April 30, 2026"),
    (DUE - timedelta(days=1), "Due in 1 day, on April 30, 2026"),
    (DUE, "Due today, April 30, 2026, by 11:59 p.m. Eastern"),
    (DUE + timedelta(days=1), "Overdue by 1 day (was due April 30, 2026)"),
    (DUE + timedelta(days=3), "Overdue by 3 days (was due April 30, 2026)"),
])
def test_deadline_phrase_says_plainly_how_long_is_left(today, phrase):
    assert deadline_phrase("draft", None, DUE, today) == phrase


def test_deadline_phrase_mentions_an_extension():
    assert deadline_phrase("draft", None, DUE, DUE - timedelta(days=2), extended=True) == (
        "Due in 2 days, on April 30, 2026 (extended)")
    assert deadline_phrase("draft", None, DUE, DUE + timedelta(days=2), extended=True).endswith("(extended)")


def test_deadline_phrase_for_submitted_and_excused_reports():
    today = DUE + timedelta(days=10)
    assert deadline_phrase("submitted", eastern(2026, 4, 30, 23, 59, 59), DUE, today) == "Submitted on time"
    assert deadline_phrase("submitted", eastern(2026, 5, 1), DUE, today) == "Submitted late"
    assert deadline_phrase("excused", None, DUE, today) == "Excused: not required"


def test_days_overdue_is_zero_until_the_day_after_the_due_date():
    assert days_overdue(DUE, DUE - timedelta(days=5)) == 0
    assert days_overdue(DUE, DUE) == 0
    assert days_overdue(DUE, DUE + timedelta(days=7)) == 7


# --- completeness and on-time rates --------------------------------------------------------------

def test_rates_are_fractions_of_expected_reports():
    assert rates(4, 3, 2) == (0.75, 0.5)


def test_rates_are_none_when_nothing_is_expected():
    assert rates(0, 0, 0) == (None, None)
    assert rates(0, 3, 3) == (None, None)


def test_rates_never_exceed_one_even_when_more_were_submitted_than_expected():
    assert rates(2, 5, 4) == (1.0, 1.0)


@given(expected=st.integers(0, 10_000), submitted=st.integers(0, 20_000), on_time=st.integers(0, 20_000))
def test_rates_are_always_between_zero_and_one(expected, submitted, on_time):
    completeness, on_time_rate = rates(expected, submitted, on_time)
    if expected == 0:
        assert completeness is None and on_time_rate is None
    else:
        assert 0 <= completeness <= 1
        assert 0 <= on_time_rate <= 1
