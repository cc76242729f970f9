"""factory_boy factories for the core models; programs come with their catalogue measure set."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from grants.extensions import db
from grants.measures import CATALOG, PROGRAMS
from grants.models import (
    Community,
    Grant,
    MeasureDefinition,
    MeasureSet,
    MeasureSetItem,
    Organization,
    Program,
    ProgramOfficer,
    Report,
    User,
)
from grants.periods import deadline_instant, reporting_periods
from grants.regions import hhs_region
from grants.security import hash_password

PASSWORD = "factory-pass-2026"
_PASSWORD_HASH = None


def password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class OrganizationFactory(Base):
    class Meta:
        model = Organization

    legal_name = factory.Sequence(lambda n: f"Community Org {n}, Inc.")
    ein = factory.Sequence(lambda n: f"91-{n:07d}")
    uei = factory.Sequence(lambda n: f"F{n:011d}")
    state = "OH"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "grantee_certifier"
    organization = factory.SubFactory(OrganizationFactory)
    password_hash = factory.LazyFunction(password_hash)
    title = "Director"
    phone = "202-555-0101"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("role") not in ("grantee_editor", "grantee_certifier"):
            kwargs["organization"] = None
        return super()._create(model_class, *args, **kwargs)


class CommunityFactory(Base):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"Test County {n}, OH")
    state = "OH"
    community_type = "urban"
    hhs_region = factory.LazyAttribute(lambda o: hhs_region(o.state))


def program(code: str = "YCCR") -> Program:
    """The program with its catalogue measures (created once per database)."""
    existing = db.session.query(Program).filter_by(code=code).one_or_none()
    if existing:
        return existing
    row = next(p for p in PROGRAMS if p[0] == code)
    prog = Program(code=code, name=row[1], funding_office=row[2])
    db.session.add(prog)
    mset = MeasureSet(program=prog, version=1, effective_from=date(2010, 10, 1))
    db.session.add(mset)
    for position, mcode in enumerate(row[3]):
        measure = db.session.query(MeasureDefinition).filter_by(code=mcode).one_or_none()
        if measure is None:
            spec = CATALOG[mcode]
            measure = MeasureDefinition(code=mcode, name=spec.name, value_type=spec.value_type, help_text=spec.help_text,
                                        breakdowns=list(spec.breakdowns), per_category=spec.per_category,
                                        point_in_time=spec.point_in_time, people_count=spec.people_count)
            db.session.add(measure)
        mset.items.append(MeasureSetItem(measure=measure, position=position))
    db.session.flush()
    return prog


class GrantFactory(Base):
    class Meta:
        model = Grant

    award_number = factory.Sequence(lambda n: f"90ZV{n:04d}-01-00")
    program = factory.LazyFunction(program)
    organization = factory.SubFactory(OrganizationFactory)
    community = factory.SubFactory(CommunityFactory)
    officer = None
    start_date = date(2024, 10, 1)
    end_date = date(2027, 9, 30)
    award_amount = Decimal("600000.00")


def open_reports(grant: Grant, until: date | None = None) -> list[Report]:
    """Report rows for the grant's periods (all of them, or those starting by `until`)."""
    mset = grant.program.measure_sets[-1]
    reports = []
    for p in reporting_periods(grant.start_date, grant.end_date):
        if until and p.start > until:
            continue
        r = Report(grant=grant, fiscal_year=p.fiscal_year, half=p.half, report_type=p.report_type,
                   period_start=p.start, period_end=p.end, due_date=p.due_date, effective_due_date=p.due_date,
                   deadline_at=deadline_instant(p.due_date), status="not_started", measure_set=mset)
        db.session.add(r)
        reports.append(r)
    db.session.flush()
    return reports


def assign_officer(user: User, prog: Program) -> None:
    db.session.add(ProgramOfficer(program_id=prog.id, user_id=user.id))
    db.session.flush()
