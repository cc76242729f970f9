"""The reporting calendar as pure functions over dates.

Federal fiscal year N runs Oct 1 of N-1 to Sep 30 of N. Semiannual periods: H1 Oct 1 - Mar 31,
due Apr 30; H2 Apr 1 - Sep 30, due Oct 30 (2 CFR 200.329). Periods are clipped to the period of
performance; the period containing its end is the final report, due 120 days after the end
(2 CFR 200.344). Deadlines are 23:59:59 US Eastern on the effective due date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
INTERIM_DUE_DAYS = 30
FINAL_DUE_DAYS = 120
DUE_SOON_DAYS = 14


@dataclass(frozen=True)
class Period:
    fiscal_year: int
    half: str
    start: date
    end: date
    report_type: str
    due_date: date

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year} {self.half}"


def fiscal_year_of(day: date) -> int:
    return day.year + 1 if day.month >= 10 else day.year


def half_of(day: date) -> str:
    return "H2" if 4 <= day.month <= 9 else "H1"


def half_bounds(fiscal_year: int, half: str) -> tuple[date, date]:
    """The calendar bounds of a fiscal half, before clipping."""
    if half == "H1":
        return date(fiscal_year - 1, 10, 1), date(fiscal_year, 3, 31)
    if half == "H2":
        return date(fiscal_year, 4, 1), date(fiscal_year, 9, 30)
    raise ValueError(f"unknown half {half!r}")


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    return date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)


def reporting_periods(start: date, end: date) -> list[Period]:
    """Every semiannual reporting period of an award, clipped to its period of performance."""
    if end < start:
        raise ValueError("the period of performance ends before it starts")
    periods: list[Period] = []
    fy, half = fiscal_year_of(start), half_of(start)
    while True:
        h_start, h_end = half_bounds(fy, half)
        if h_start > end:
            break
        p_start, p_end = max(h_start, start), min(h_end, end)
        if p_end >= end:
            periods.append(Period(fy, half, p_start, end, "final", end + timedelta(days=FINAL_DUE_DAYS)))
            break
        periods.append(Period(fy, half, p_start, p_end, "interim", p_end + timedelta(days=INTERIM_DUE_DAYS)))
        fy, half = (fy, "H2") if half == "H1" else (fy + 1, "H1")
    return periods


def effective_due_date(due_date: date, extended_to: date | None) -> date:
    """The later of the due date and an approved extension's date."""
    return max(due_date, extended_to) if extended_to else due_date


def deadline_instant(effective_due: date) -> datetime:
    """The last instant of 23:59:59 US Eastern on the effective due date, as an aware UTC datetime
    (a submission stamped 23:59:59.4 is on time; one at 00:00:00 the next day is late)."""
    local = datetime.combine(effective_due, time(23, 59, 59, 999999), tzinfo=EASTERN)
    return local.astimezone(UTC)


def eastern_today(now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return now.astimezone(EASTERN).date()


def is_late(submitted_at: datetime, effective_due: date) -> bool:
    return submitted_at > deadline_instant(effective_due)


TIMELINESS = ("open", "due_soon", "overdue", "submitted_on_time", "submitted_late", "excused")
TIMELINESS_LABELS = {
    "open": "Open",
    "due_soon": "Due soon",
    "overdue": "Overdue",
    "submitted_on_time": "Submitted on time",
    "submitted_late": "Submitted late",
    "excused": "Excused",
}


def timeliness(status: str, first_submitted_at: datetime | None, effective_due: date,
               today: date) -> str:
    """Deadline status of one report (DOMAIN.md 'Timeliness and completeness')."""
    if status == "excused":
        return "excused"
    if first_submitted_at is not None:
        return "submitted_late" if is_late(first_submitted_at, effective_due) else "submitted_on_time"
    if today > effective_due:
        return "overdue"
    if (effective_due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "open"


def days_overdue(effective_due: date, today: date) -> int:
    return max(0, (today - effective_due).days)


def deadline_phrase(status: str, first_submitted_at: datetime | None, effective_due: date,
                    today: date, extended: bool = False) -> str:
    """Plain-language deadline status for people: 'Due in 5 days', 'Overdue by 3 days'."""
    state = timeliness(status, first_submitted_at, effective_due, today)
    when = f"{effective_due:%B} {effective_due.day}, {effective_due.year}"
    suffix = " (extended)" if extended else ""
    if state == "excused":
        return "Excused: not required"
    if state == "submitted_on_time":
        return "Submitted on time"
    if state == "submitted_late":
        return "Submitted late"
    days = (effective_due - today).days
    if state == "overdue":
        n = -days
        return f"Overdue by {n} day{'s' if n != 1 else ''} (was due {when}){suffix}"
    if days == 0:
        return f"Due today, {when}, by 11:59 p.m. Eastern{suffix}"
    return f"Due in {days} day{'s' if days != 1 else ''}, on {when}{suffix}"


def rates(expected: int, submitted: int, on_time: int) -> tuple[float | None, float | None]:
    """Completeness and on-time rate as fractions, never above 1 (None when nothing expected)."""
    if expected <= 0:
        return None, None
    return min(submitted, expected) / expected, min(on_time, expected) / expected
