"""API: programs and the measures they collect (reference data every signed-in role may read)."""
from __future__ import annotations

from sqlalchemy import select

from grants.blueprints.api.common import api_blueprint, documented
from grants.blueprints.api.schemas import MeasureSchema, ProgramSchema
from grants.errors import NotFound
from grants.extensions import db
from grants.measures import MeasureSpec, categories, dimension_label
from grants.models import MeasureDefinition, Program
from grants.periods import eastern_today
from grants.services.open_periods import current_measure_sets

bp = api_blueprint("api_catalog", "Programs and the measures their reports collect.")


def measure_out(m: MeasureDefinition) -> dict:
    spec = MeasureSpec.from_model(m)
    return {
        "code": m.code, "name": m.name, "help_text": m.help_text or "", "value_type": m.value_type,
        "breakdowns": [
            {"dimension": d, "label": dimension_label(d),
             "categories": [{"code": c, "label": label} for c, label in categories(d)]}
            for d in spec.breakdowns
        ],
        "per_category": m.per_category, "point_in_time": m.point_in_time, "people_count": m.people_count,
        "cells": [c.key for c in spec.cells],
    }


def program_out(p: Program, current_sets: dict[int, int]) -> dict:
    """The program with the measure set in effect today (the one new reports are opened on)."""
    current = next((s for s in p.measure_sets if s.id == current_sets.get(p.id)), None)
    return {
        "code": p.code, "name": p.name, "funding_office": p.funding_office,
        "reporting_frequency": p.reporting_frequency, "measure_set_version": current.version if current else None,
        "measures": [item.measure.code for item in current.items] if current else [],
    }


@bp.route("/programs")
@documented(bp)
@bp.response(200, ProgramSchema(many=True))
def program_list():
    """Every program, with the measures its current measure set collects."""
    current = current_measure_sets(eastern_today())
    return [program_out(p, current) for p in db.session.scalars(select(Program).order_by(Program.code))]


@bp.route("/programs/<string:code>")
@documented(bp, 404)
@bp.response(200, ProgramSchema)
def program_read(code: str):
    """One program by code (e.g. YCCR)."""
    program = db.session.scalar(select(Program).where(Program.code == code.upper()[:20]))
    if program is None:
        raise NotFound("We could not find that program.")
    return program_out(program, current_measure_sets(eastern_today()))


@bp.route("/measures")
@documented(bp)
@bp.response(200, MeasureSchema(many=True))
def measure_list():
    """Every measure definition: type, help text, breakdowns and cell keys."""
    return [measure_out(m) for m in db.session.scalars(select(MeasureDefinition).order_by(MeasureDefinition.code))]


@bp.route("/measures/<string:code>")
@documented(bp, 404)
@bp.response(200, MeasureSchema)
def measure_read(code: str):
    """One measure definition by code (e.g. CLI-01)."""
    measure = db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.code == code.upper()[:20]))
    if measure is None:
        raise NotFound("We could not find that measure.")
    return measure_out(measure)
