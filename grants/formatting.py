"""How numbers, dates and times are written for people: pages, mail and service messages alike."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from grants.periods import EASTERN


def fmt_number(value, value_type: str = "count") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    value = Decimal(value)
    if value_type == "currency":
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
    if value_type == "percent":
        return f"{value:.1f}%"
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.1f}"


def plural(n: int, one: str, many: str) -> str:
    """'1 grant', '1,029 grants': a count and the words that go with it."""
    return f"{n:,} {one if n == 1 else many}"


def fmt_date(value: date | None) -> str:
    if value is None:
        return "—"
    return f"{value:%b} {value.day}, {value.year}"


def fmt_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return "—"
    local = value.astimezone(EASTERN)
    hour = local.strftime("%I").lstrip("0")
    minute = f"{local:%M:%S}" if seconds else f"{local:%M}"
    return f"{local:%b} {local.day}, {local.year}, {hour}:{minute} {local:%p} ET".replace("AM", "a.m.").replace("PM", "p.m.")


_RECORDED_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


def fmt_recorded(value) -> str:
    """A value as the audit trail recorded it (grants.audit: instants as ISO text in UTC), for
    people: instants in Eastern time with seconds, nothing as ∅, everything else as it is."""
    if value is None:
        return "∅"
    if isinstance(value, str) and _RECORDED_INSTANT.fullmatch(value):
        return fmt_datetime(datetime.fromisoformat(value), seconds=True)
    return str(value)
