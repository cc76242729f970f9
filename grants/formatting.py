"""How numbers, dates and times are written for people: pages, mail and service messages alike."""
from __future__ import annotations

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


def fmt_date(value: date | None) -> str:
    if value is None:
        return "—"
    return f"{value:%b} {value.day}, {value.year}"


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(EASTERN)
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {local:%p} ET".replace("AM", "a.m.").replace("PM", "p.m.")
