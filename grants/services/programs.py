"""Program and measure administration (admin only): programs, their versioned measure sets, and the
wording of measures.

A program's measures are a versioned set. A new version applies to the reports opened from its
effective date on (grants.services.open_periods opens each report on the newest set in effect);
reports already opened keep the version they were opened on, so a change of measures never
rewrites a past report. A measure's code, type and breakdowns define the data filed under it and
never change; its name and help text can be reworded, and the new wording shows wherever the
measure is named, past reports included. Every change goes into the audit trail.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from grants.errors import ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date
from grants.measures import CATALOG, CEILINGS, MeasureSpec
from grants.models import Grant, MeasureDefinition, MeasureSet, MeasureSetItem, Program
from grants.periods import eastern_today
from grants.services.awards import check_lock, get_or_404
from grants.services.open_periods import current_measure_sets
from grants.validation import clean_text

PROGRAM_CODE = re.compile(r"[A-Z][A-Z0-9]{1,19}")
HELP_MAX = 2_000
# A measure that may not exceed another needs that one in the same set (grants.measures.CEILINGS).
NEEDS = {(measure, ceiling) for measure, _, ceiling in CEILINGS}


@dataclass(frozen=True)
class ProgramRow:
    program: Program
    in_effect: MeasureSet | None  # the set reports open on today
    upcoming: MeasureSet | None  # a newer set not in effect yet
    grants: int


def program_rows(today: date | None = None) -> list[ProgramRow]:
    today = today or eastern_today()
    current = current_measure_sets(today)
    grants = dict(db.session.execute(select(Grant.program_id, func.count(Grant.id)).group_by(Grant.program_id)).all())
    rows = []
    for program in db.session.scalars(select(Program).order_by(Program.code)):
        sets = program.measure_sets
        in_effect = next((s for s in sets if s.id == current.get(program.id)), None)
        upcoming = next((s for s in reversed(sets) if s.effective_from > today), None)
        rows.append(ProgramRow(program, in_effect, upcoming, grants.get(program.id, 0)))
    return rows


def get_program(program_id: int) -> Program:
    return get_or_404(Program, program_id, "program")


def catalogue() -> list[MeasureDefinition]:
    """Every measure definition, in the catalogue's order (grants.measures.CATALOG; others after)."""
    order = {code: i for i, code in enumerate(CATALOG)}
    return sorted(db.session.scalars(select(MeasureDefinition)), key=lambda m: (order.get(m.code, len(order)), m.id))


def _measures(codes, errors: dict, key: str = "measures") -> list[MeasureDefinition]:
    chosen = set(codes or ())
    measures = [m for m in catalogue() if m.code in chosen]
    if len(measures) != len(chosen):
        errors[key] = ["Choose measures from the list."]
    elif not measures:
        errors[key] = ["Choose at least one measure."]
    else:
        missing: dict[str, list[str]] = {}
        for measure, ceiling in sorted(NEEDS):
            if measure in chosen and ceiling not in chosen:
                missing.setdefault(ceiling, []).append(measure)
        if missing:
            errors[key] = [f"{_and(needing)} cannot exceed {ceiling}, so {ceiling} must be collected with "
                           f"{'it' if len(needing) == 1 else 'them'}." for ceiling, needing in missing.items()]
    return measures


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _effective(program: Program | None, value, errors: dict, today: date) -> date | None:
    if not isinstance(value, date):
        errors["effective_from"] = ["Enter the date the measures take effect."]
        return None
    if value < today:
        errors["effective_from"] = ["Choose today or a later date: reports already opened keep their measures."]
    elif program is not None and program.measure_sets and value < program.measure_sets[-1].effective_from:
        latest = program.measure_sets[-1]
        errors["effective_from"] = [f"Version {latest.version} takes effect on {fmt_date(latest.effective_from)}; "
                                    "a new version cannot take effect before it."]
    return value


def _add_set(program: Program, measures: list[MeasureDefinition], effective_from: date) -> MeasureSet:
    version = (program.measure_sets[-1].version if program.measure_sets else 0) + 1
    measure_set = MeasureSet(program=program, version=version, effective_from=effective_from)
    for position, measure in enumerate(measures):
        measure_set.items.append(MeasureSetItem(measure=measure, position=position))
    db.session.add(measure_set)
    return measure_set


def save_program(program: Program | None, data: Mapping, expected_lock=None, today: date | None = None) -> Program:
    """Create a program (with its first measure set) or reword an existing one's name and office."""
    today = today or eastern_today()
    if program is not None:
        check_lock(program, expected_lock, "program")
    errors: dict[str, list[str]] = {}
    name, error = clean_text(data.get("name"), "the program's name", max_length=200)
    if error:
        errors["name"] = [error]
    office, error = clean_text(data.get("funding_office"), "the funding office", max_length=200)
    if error:
        errors["funding_office"] = [error]
    if program is None:
        code = (data.get("code") or "").strip().upper()
        if not PROGRAM_CODE.fullmatch(code):
            errors["code"] = ["Enter a short code of capital letters and digits, like YCCR (2 to 20 characters)."]
        elif db.session.scalar(select(Program.id).where(Program.code == code)) is not None:
            errors["code"] = [f"There is already a program {code}."]
        measures = _measures(data.get("measures"), errors)
        effective_from = _effective(None, data.get("effective_from"), errors, today)
    if errors:
        raise ValidationFailed("The program was not saved. Fix the problems listed.", errors)
    if program is None:
        program = Program(code=code, reporting_frequency="semiannual")
        db.session.add(program)
        _add_set(program, measures, effective_from)
    program.name, program.funding_office = name, office
    db.session.flush()
    return program


def earliest_effective(program: Program, today: date | None = None) -> date:
    """The first day a new version of the program's measures may take effect."""
    today = today or eastern_today()
    return max([today, *(s.effective_from for s in program.measure_sets[-1:])])


def add_measure_set(program: Program, codes, effective_from, today: date | None = None) -> MeasureSet:
    """A new version of the program's measures, for reports opened from `effective_from` on."""
    today = today or eastern_today()
    errors: dict[str, list[str]] = {}
    measures = _measures(codes, errors)
    effective = _effective(program, effective_from, errors, today)
    if not errors and program.measure_sets:
        latest = program.measure_sets[-1]
        if [i.measure_id for i in latest.items] == [m.id for m in measures]:
            errors["measures"] = [f"These are the measures of version {latest.version} already."]
    if errors:
        raise ValidationFailed("The new measures were not saved. Fix the problems listed.", errors)
    measure_set = _add_set(program, measures, effective)
    db.session.flush()
    return measure_set


def get_measure(measure_id: int) -> MeasureDefinition:
    return get_or_404(MeasureDefinition, measure_id, "measure")


def measure_programs() -> dict[int, list[str]]:
    """measure id -> the codes of the programs whose sets have collected it."""
    out: dict[int, set[str]] = {}
    for measure_id, code in db.session.execute(
        select(MeasureSetItem.measure_id, Program.code).join(MeasureSet, MeasureSet.id == MeasureSetItem.measure_set_id)
        .join(Program, Program.id == MeasureSet.program_id)
    ):
        out.setdefault(measure_id, set()).add(code)
    return {k: sorted(v) for k, v in out.items()}


def save_measure(measure: MeasureDefinition, data: Mapping, expected_lock=None) -> MeasureDefinition:
    """Reword a measure: its name and help text (its code, type and breakdowns never change)."""
    check_lock(measure, expected_lock, "measure")
    errors: dict[str, list[str]] = {}
    name, error = clean_text(data.get("name"), "the measure's name", max_length=200)
    if error:
        errors["name"] = [error]
    help_text, error = clean_text(data.get("help_text"), "help text", required=False, max_length=HELP_MAX)
    if error:
        errors["help_text"] = [error]
    if errors:
        raise ValidationFailed("The measure was not saved. Fix the problems listed.", errors)
    measure.name, measure.help_text = name, help_text
    db.session.flush()
    return measure


def spec(measure: MeasureDefinition) -> MeasureSpec:
    return MeasureSpec.from_model(measure)
