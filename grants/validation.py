"""Validation rules for report values and narratives, as pure functions over plain values.

One place for every rule of DOMAIN.md 'Validation': the web form, the spreadsheet upload, the API
and the scheduler all call `check_values` and `submission_problems`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from grants.measures import (
    CEILINGS,
    NARRATIVE_MAX_LENGTH,
    Cell,
    MeasureSpec,
    breakdown_key,
    categories,
    dimension_label,
)

COUNT_MAX = 10_000_000
CHANGE_RATIO = Decimal("0.5")
CHANGE_ABSOLUTE = Decimal("10")
TEXT_MAX = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Warning:
    code: str
    field: str
    message: str


@dataclass
class CheckResult:
    """Parsed values (None = blank or invalid), errors by field key, and warnings."""

    values: dict[str, Decimal | None] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[Warning] = field(default_factory=list)

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _fmt(value: Decimal, money: bool = False) -> str:
    if money:
        return f"${value:,.2f}"
    return f"{value:,.2f}" if value != value.to_integral_value() else f"{int(value):,}"


def parse_value(raw: str | None, value_type: str, award_amount: Decimal | None = None) -> tuple[Decimal | None, str | None]:
    """Parse one typed value: (number, None), (None, None) for blank, or (None, error message)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    cleaned = text.replace(",", "")
    if value_type == "currency":
        cleaned = cleaned.removeprefix("$")
    if value_type == "percent":
        cleaned = cleaned.removesuffix("%").strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        return None, {
            "count": "Must be a whole number, like 12.",
            "percent": "Must be a percent from 0 to 100, like 45.5.",
            "currency": "Must be a dollar amount, like 1250.00.",
        }[value_type]
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None, "Must be a number."
    if number < 0:
        return None, "Cannot be negative."
    decimals = -number.as_tuple().exponent if number.as_tuple().exponent < 0 else 0
    if value_type == "count":
        if number != number.to_integral_value():
            return None, "Must be a whole number, like 12."
        if number > COUNT_MAX:
            return None, f"Must be at most {COUNT_MAX:,}."
        return Decimal(int(number)), None
    if value_type == "percent":
        if number > 100:
            return None, "Must be at most 100."
        if decimals > 1:
            return None, "Use at most one decimal place, like 45.5."
        return number, None
    if decimals > 2:
        return None, "Use dollars and cents, at most two decimal places."
    if award_amount is not None and number > award_amount:
        return None, f"Cannot exceed the award amount of {_fmt(award_amount, True)}."
    return number, None


def check_values(
    specs: list[MeasureSpec],
    raw: dict[str, str],
    award_amount: Decimal | None = None,
    previous: dict[str, Decimal] | None = None,
    prior_expended: Decimal = Decimal("0"),
) -> CheckResult:
    """Every value rule and warning of DOMAIN.md for one report's typed values.

    `previous` holds the grant's previous period values by cell key (for the change warning);
    `prior_expended` is FIN-01 summed over the grant's earlier periods.
    """
    result = CheckResult()
    by_code = {s.code: s for s in specs}
    for spec in specs:
        for cell in spec.cells:
            number, error = parse_value(raw.get(cell.key), spec.value_type, award_amount)
            result.values[cell.key] = number
            if error:
                result.add_error(cell.key, error)
        _check_breakdowns(spec, result)
    _check_ceilings(by_code, result)
    _warn(specs, result, previous or {}, award_amount, prior_expended)
    return result


def _check_breakdowns(spec: MeasureSpec, result: CheckResult) -> None:
    if not spec.has_total:
        return
    total = result.values.get(spec.code)
    for dim in spec.breakdowns:
        keys = [Cell(spec.code, dim, c).key for c, _ in categories(dim)]
        if any(k in result.errors for k in keys) or spec.code in result.errors:
            continue
        entered = [result.values[k] for k in keys if result.values.get(k) is not None]
        if not entered:
            continue
        label = dimension_label(dim).lower()
        parts = sum(entered, Decimal(0))
        if total is None:
            result.add_error(breakdown_key(spec.code, dim), f"Enter the total before the {label} breakdown.")
        elif len(entered) == len(keys) and parts != total:
            result.add_error(
                breakdown_key(spec.code, dim),
                f"The {label} breakdown adds up to {_fmt(parts)} but the total is {_fmt(total)}. "
                "Use “Unknown” to balance.",
            )
        elif parts > total:
            result.add_error(
                breakdown_key(spec.code, dim),
                f"The {label} breakdown already adds up to {_fmt(parts)}, more than the total of {_fmt(total)}.",
            )


def _check_ceilings(by_code: dict[str, MeasureSpec], result: CheckResult) -> None:
    for code, dim, ceiling_code in CEILINGS:
        if code not in by_code or ceiling_code not in by_code:
            continue
        ceiling = result.values.get(ceiling_code)
        if ceiling is None:
            continue
        spec, ceiling_name = by_code[code], by_code[ceiling_code].name
        for cell in spec.cells:
            if dim and cell.dimension != dim:
                continue
            if not dim and cell.dimension:
                continue
            value = result.values.get(cell.key)
            if value is not None and value > ceiling:
                result.add_error(
                    cell.key,
                    f"Cannot exceed {ceiling_code} ({ceiling_name}), which is {_fmt(ceiling)}.",
                )


def _warn(specs, result: CheckResult, previous, award_amount, prior_expended) -> None:
    for spec in specs:
        for cell in spec.cells:
            if cell.dimension and spec.has_total:
                continue
            now, before = result.values.get(cell.key), previous.get(cell.key)
            if now is None or before is None:
                continue
            change = abs(now - before)
            if change > CHANGE_ABSOLUTE and change > CHANGE_RATIO * before:
                money = spec.value_type == "currency"
                result.warnings.append(Warning(
                    f"change:{cell.key}", cell.key,
                    f"Changed from {_fmt(before, money)} last period to {_fmt(now, money)}: more than 50%. "
                    "Explain the change.",
                ))
    count_totals = [result.values.get(s.cells[0].key) if s.has_total else None for s in specs if s.value_type == "count"]
    count_cells = [result.values.get(c.key) for s in specs if s.value_type == "count" for c in s.cells]
    if count_cells and all(v is not None for v in count_cells) and all(v == 0 for v in count_cells) and count_totals:
        result.warnings.append(Warning("all_zero", "", "Every count is zero. Explain why nothing was reported."))
    spent = result.values.get("FIN-01")
    if spent is not None and award_amount is not None and prior_expended + spent > award_amount:
        result.warnings.append(Warning(
            "fin_cumulative", "FIN-01",
            f"Federal funds expended to date ({_fmt(prior_expended + spent, True)}) exceed the award "
            f"amount of {_fmt(award_amount, True)}. Explain.",
        ))


def check_narratives(narratives: dict[str, str]) -> dict[str, list[str]]:
    """Length and character rules of the narratives (plain text, at most 10,000 characters)."""
    errors: dict[str, list[str]] = {}
    for name, text in narratives.items():
        # Browsers send textarea line breaks as CRLF; a line break is one character to the writer.
        text = (text or "").replace("\r\n", "\n")
        if len(text) > NARRATIVE_MAX_LENGTH:
            errors[name] = [f"Use at most {NARRATIVE_MAX_LENGTH:,} characters (this has {len(text):,})."]
        elif _CONTROL.search(text):
            errors[name] = ["Remove the control characters (such as NUL) from this text."]
    return errors


def clean_text(text: str | None, label: str, required: bool = True, max_length: int = TEXT_MAX) -> tuple[str, str | None]:
    """One rule for free text (remarks, reasons): trimmed, no control characters, bounded."""
    value = (text or "").replace("\r\n", "\n").strip()
    if required and not value:
        return value, f"Enter {label}."
    if len(value) > max_length:
        return value, f"Use at most {max_length:,} characters."
    if _CONTROL.search(value):
        return value, "Remove the control characters (such as NUL) from this text."
    return value, None


def draft_errors(result: CheckResult, narratives: dict[str, str]) -> dict[str, list[str]]:
    """The rules a draft's values and narratives break, by field key: a draft is saved with
    them (nothing typed is lost) and shows each beside its field; submitting needs none."""
    errors: dict[str, list[str]] = {k: list(v) for k, v in result.errors.items()}
    for key, msgs in check_narratives(narratives).items():
        errors.setdefault(key, []).extend(msgs)
    return errors


def submission_problems(
    specs: list[MeasureSpec],
    result: CheckResult,
    narratives: dict[str, str],
    explanations: dict[str, str],
) -> dict[str, list[str]]:
    """What stops a report from being submitted, by field key ('' for the whole report)."""
    problems = draft_errors(result, narratives)
    for spec in specs:
        for cell in spec.cells:
            if result.values.get(cell.key) is None and cell.key not in result.errors:
                problems.setdefault(cell.key, []).append("Enter a value (0 if none).")
    if not (narratives.get("narrative_accomplishments") or "").strip():
        problems.setdefault("narrative_accomplishments", []).append(
            "Describe your accomplishments against the award's objectives."
        )
    for w in result.warnings:
        if not (explanations.get(w.code) or "").strip():
            problems.setdefault(f"explain:{w.code}", []).append("Explain this warning before you submit.")
    return problems
