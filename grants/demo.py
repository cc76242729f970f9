"""Demo data: `flask --app wsgi demo seed [--grants N] [--years Y]`.

Dated relative to today, so there is always something due soon, overdue and awaiting review.
Rows are written with bulk Core inserts (ids assigned here) so that the benchmark dataset of
2,000 grants and 10 years loads in seconds; values are generated to pass every validation rule,
and any warning they raise carries an explanation, as a real submission would.
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import insert, select, text

from grants import audit
from grants.extensions import db
from grants.measures import CATALOG, MEASURES, PROGRAMS, MeasureSpec, categories
from grants.models import (
    Community,
    ExtensionRequest,
    Grant,
    MeasureDefinition,
    MeasureSet,
    MeasureSetItem,
    Organization,
    Program,
    ProgramOfficer,
    Remark,
    Report,
    ReportTransition,
    ReportValue,
    ReportVersion,
    User,
)
from grants.periods import EASTERN, deadline_instant, eastern_today, fiscal_year_of, reporting_periods
from grants.regions import hhs_region
from grants.security import hash_password
from grants.validation import check_values

DEMO_PASSWORD = "demo-pass-2026"
COMMUNITIES = (
    ("Franklin County, OH", "OH", "urban"), ("Cuyahoga County, OH", "OH", "urban"),
    ("Athens County, OH", "OH", "rural"), ("Navajo Nation", "AZ", "tribal"),
    ("Maricopa County, AZ", "AZ", "urban"), ("Tohono O'odham Nation", "AZ", "tribal"),
    ("Cook County, IL", "IL", "urban"), ("DuPage County, IL", "IL", "suburban"),
    ("Harris County, TX", "TX", "urban"), ("El Paso County, TX", "TX", "urban"),
    ("Hidalgo County, TX", "TX", "rural"), ("Los Angeles County, CA", "CA", "urban"),
    ("Fresno County, CA", "CA", "rural"), ("Humboldt County, CA", "CA", "rural"),
    ("King County, WA", "WA", "urban"), ("Yakama Nation", "WA", "tribal"),
    ("Fulton County, GA", "GA", "urban"), ("Miami-Dade County, FL", "FL", "urban"),
    ("Polk County, FL", "FL", "suburban"), ("Cherokee Nation", "OK", "tribal"),
    ("Tulsa County, OK", "OK", "urban"), ("Oglala Sioux Tribe (Pine Ridge)", "SD", "tribal"),
    ("Minnehaha County, SD", "SD", "urban"), ("Hennepin County, MN", "MN", "urban"),
    ("Red Lake Nation", "MN", "tribal"), ("State of Vermont", "VT", "statewide"),
    ("Bronx County, NY", "NY", "urban"), ("Onondaga County, NY", "NY", "suburban"),
    ("Wayne County, MI", "MI", "urban"), ("Baltimore City, MD", "MD", "urban"),
    ("Denver County, CO", "CO", "urban"), ("State of Alaska", "AK", "statewide"),
)
EXTRA_COUNTY_NAMES = ("Washington", "Jefferson", "Lincoln", "Jackson", "Madison", "Clay", "Monroe", "Marion",
                      "Greene", "Union", "Warren", "Grant", "Lake", "Montgomery", "Carroll", "Adams", "Hamilton")
EXTRA_STATES = ("PA", "NC", "VA", "TN", "MO", "IN", "WI", "KY", "LA", "NM", "NE", "KS", "IA", "OR", "NV", "UT")
ORG_FIRST = ("Harbor", "Riverbend", "Northstar", "Prairie", "Cedar", "Lakeshore", "Mesa", "Bluebird", "Summit",
             "Redwood", "Granite", "Willow", "Juniper", "Keystone", "Magnolia", "Sierra", "Beacon", "Aspen")
ORG_SECOND = ("Youth Alliance", "Family Services", "Survivor Network", "Community Coalition", "Child Advocacy Center",
              "Legal Aid", "Healing Collective", "Youth Services", "Outreach Partners", "Safe Passage",
              "Human Services", "Freedom Project")
PROGRAM_PREFIX = {"YCCR": "90ZV", "DVHT": "90TS", "VHTNC": "90TN", "ASPIRE": "90TA", "HTYPE": "90TE"}
# Typical size of each measure relative to the clients a grant serves in a half year.
MEASURE_SCALE = {
    "CLI-01": 1.0, "CLI-04": 0.6, "SRV-02": 1.4, "TRN-01": 0.15, "TRN-02": 2.5, "OUT-01": 0.12,
    "OUT-02": 18.0, "EDU-01": 0.15, "EDU-02": 1.2, "EDU-03": 14.0, "CCR-01": 0.1, "CCR-02": 3.0,
}
NARRATIVE_TEXT = {
    "narrative_accomplishments": (
        "During {period} the project served survivors in {community} through case management, "
        "shelter referrals and legal advocacy. We met our quarterly intake targets and held the "
        "planned coordinated-response meetings with child welfare and law enforcement partners."
    ),
    "narrative_goals_not_met": "Recruitment of a bilingual case manager took longer than planned.",
    "narrative_developments": "A new partnership with the county juvenile court began referrals in {period}.",
    "narrative_next_period": "Expand outreach to schools and train two more partner agencies.",
    "narrative_cumulative": (
        "Over the whole award the project built a coordinated community response in {community}, "
        "with formal agreements among service providers and a sustained referral network."
    ),
}


class _Ids:
    """Sequential ids per table, assigned here so that bulk inserts can refer to each other."""

    def __init__(self) -> None:
        self._next: dict[str, int] = defaultdict(lambda: 1)

    def __call__(self, table: str) -> int:
        value = self._next[table]
        self._next[table] += 1
        return value


def _split(total: int, n: int, rng: random.Random) -> list[int]:
    """A random split of a whole number into n parts that sum to it exactly."""
    if n == 1:
        return [total]
    weights = [rng.random() + 0.05 for _ in range(n)]
    parts = [int(total * w / sum(weights)) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def generate_values(specs: list[MeasureSpec], clients: float, spent: Decimal, rng: random.Random,
                    shares: dict[str, float] | None = None) -> dict[str, str]:
    """Typed values for one report that satisfy every validation rule.

    `shares` fixes, per grant, the share of clients receiving each service, so that a grant's
    services vary from period to period the way real ones do (a little), not at random."""
    raw: dict[str, str] = {}
    noise = lambda: rng.uniform(0.88, 1.12)  # noqa: E731
    totals: dict[str, int] = {}
    for spec in specs:
        code = spec.code
        if spec.value_type == "percent":
            raw[code] = f"{rng.uniform(62, 96):.1f}"
            continue
        if spec.value_type == "currency":
            raw[code] = f"{spent:.2f}"
            continue
        if spec.per_category:
            ceiling = totals.get("CLI-01", max(1, int(clients)))
            for cell in spec.cells:
                share = shares.get(cell.key) if shares else None
                share = rng.uniform(0.05, 0.9) if share is None else min(1.0, share * noise())
                raw[cell.key] = str(int(ceiling * share))
            continue
        if code in ("CLI-02", "CLI-03"):
            total = int(totals.get("CLI-01", clients) * rng.uniform(0.2, 0.55))
        elif code == "CCR-03":
            total = int(totals.get("CCR-02", clients * 3) * rng.uniform(0.08, 0.25))
        elif code == "PRT-01":
            total = max(2, int(4 + clients / 12 * noise()))
        elif code == "PRT-02":
            total = max(1, int(2 + clients / 30 * noise()))
        else:
            total = max(1, round(clients * MEASURE_SCALE.get(code, 1.0) * noise()))
        totals[code] = total
        raw[code] = str(total)
        for dim in spec.breakdowns:
            names = [c for c, _ in categories(dim)]
            for name, part in zip(names, _split(total, len(names), rng)):
                raw[f"{code}.{dim}.{name}"] = str(part)
    return raw


def _submitted_at(due: date, late: bool, rng: random.Random) -> datetime:
    day = due + timedelta(days=rng.randint(1, 25)) if late else due - timedelta(days=rng.randint(0, 20))
    local = datetime.combine(day, dtime(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=EASTERN)
    return local.astimezone(UTC)


def _plan_status(due: date, today: date, rng: random.Random) -> tuple[str, bool, bool]:
    """(final status, submitted late?, returned once before acceptance?) by how long ago it was due."""
    age = (today - due).days
    r = rng.random()
    if age < 0:
        return ("draft" if r < 0.45 else "not_started"), False, False
    if age <= 60:
        if r < 0.34:
            return "submitted", rng.random() < 0.2, False
        if r < 0.58:
            return "accepted", rng.random() < 0.15, False
        if r < 0.68:
            return "returned", rng.random() < 0.2, False
        if r < 0.78:
            return "draft", False, False
        if r < 0.95:
            return "not_started", False, False
        return "excused", False, False
    if r < 0.93 or (age > 120 and r < 0.97):
        return "accepted", rng.random() < 0.12, rng.random() < 0.1
    if r < 0.95:
        return "excused", False, False
    if r < 0.97:
        return ("submitted" if age <= 120 else "not_started"), rng.random() < 0.2, False
    if r < 0.985 and age <= 120:
        return "returned", False, False
    return "not_started", False, False


def seed(grant_count: int = 60, years: int = 3, today: date | None = None, seed_value: int = 2026) -> dict[str, int]:
    """Load the demo dataset into an empty database; returns row counts."""
    rng = random.Random(seed_value)
    today = today or eastern_today()
    ids = _Ids()
    rows: dict[type, list[dict]] = defaultdict(list)
    now = datetime.now(UTC)

    # Programs, measures and version 1 of each program's measure set.
    measure_ids = {}
    for code, name, value_type, help_text, breakdowns, per_category, pit, people in MEASURES:
        measure_ids[code] = ids("measure")
        rows[MeasureDefinition].append(dict(
            id=measure_ids[code], code=code, name=name, value_type=value_type, help_text=help_text,
            breakdowns=list(breakdowns), per_category=per_category, point_in_time=pit, people_count=people))
    programs, sets = {}, {}
    for code, name, office, measure_codes in PROGRAMS:
        programs[code] = ids("program")
        sets[code] = ids("measure_set")
        rows[Program].append(dict(id=programs[code], code=code, name=name, funding_office=office,
                                  reporting_frequency="semiannual"))
        rows[MeasureSet].append(dict(id=sets[code], program_id=programs[code], version=1, effective_from=date(2010, 10, 1)))
        rows[MeasureSetItem].extend(dict(measure_set_id=sets[code], measure_id=measure_ids[m], position=i)
                                    for i, m in enumerate(measure_codes))
    specs = {code: [CATALOG[m] for m in measure_codes] for code, _, _, measure_codes in PROGRAMS}

    # Communities: the named ones, plus generated counties for big datasets.
    community_list = list(COMMUNITIES)
    extra_needed = max(0, grant_count // 6 - len(community_list))
    for i in range(extra_needed):
        name = EXTRA_COUNTY_NAMES[i % len(EXTRA_COUNTY_NAMES)]
        state = EXTRA_STATES[(i // len(EXTRA_COUNTY_NAMES)) % len(EXTRA_STATES)]
        suffix = "" if i < len(EXTRA_COUNTY_NAMES) * len(EXTRA_STATES) else f" {i}"
        community_list.append((f"{name} County{suffix}, {state}", state, rng.choice(("urban", "suburban", "rural"))))
    communities = []
    for name, state, kind in community_list:
        cid = ids("community")
        communities.append((cid, name, state))
        rows[Community].append(dict(id=cid, name=name, state=state, community_type=kind, hhs_region=hhs_region(state)))

    # Organizations. The first two are the demo grantee and the "other" grantee.
    org_count = max(4, int(grant_count / 2.4))
    orgs = []
    for i in range(org_count):
        first = ORG_FIRST[i % len(ORG_FIRST)]
        second = ORG_SECOND[(i // len(ORG_FIRST) + i) % len(ORG_SECOND)]
        combos = len(ORG_FIRST) * len(ORG_SECOND)
        label = f"{first} {second}" if i < combos else f"{first} {second} {i // combos + 1}"
        cid, cname, state = communities[i % len(communities)]
        oid = ids("organization")
        orgs.append((oid, label, cid, state))
        rows[Organization].append(dict(
            id=oid, legal_name=f"{label}, Inc.", ein=f"{10 + i // 10_000_000:02d}-{i:07d}",
            uei=f"D{i:011d}", address=f"{100 + i} Main Street", city=cname.split(",")[0], state=state,
            zip_code=f"{10000 + i % 89999:05d}", created_at=now))

    # Users: the demo accounts of CONTRACT.md, a second officer, and two people per organization.
    # Demo-only shortcut: every demo user gets the same demo password, hashed once (argon2id).
    password_hash = hash_password(DEMO_PASSWORD)
    user_ids = {}

    def add_user(email, name, role, org_id=None, title="", phone="202-555-0100"):
        uid = ids("user")
        user_ids[email] = uid
        rows[User].append(dict(id=uid, email=email, name=name, role=role, organization_id=org_id, title=title,
                               phone=phone, password_hash=password_hash, active=True, must_change_password=False,
                               created_at=now))
        return uid

    add_user("grantee@demo.test", "Dana Whitfield", "grantee_certifier", orgs[0][0], "Executive Director", "614-555-0142")
    add_user("editor@demo.test", "Sam Ortiz", "grantee_editor", orgs[0][0], "Program Coordinator", "614-555-0177")
    add_user("other-grantee@demo.test", "Riley Chen", "grantee_certifier", orgs[1][0], "Chief Executive Officer", "216-555-0190")
    officer = add_user("officer@demo.test", "Morgan Reyes", "program_officer", title="Program Specialist")
    officer_b = add_user("officer-b@demo.test", "Jordan Blake", "program_officer", title="Program Specialist")
    add_user("leader@demo.test", "Avery Thompson", "leadership", title="Director, Office on Trafficking in Persons")
    add_user("admin@demo.test", "Casey Park", "admin", title="System Administrator")
    org_users = {orgs[0][0]: [user_ids["grantee@demo.test"], user_ids["editor@demo.test"]],
                 orgs[1][0]: [user_ids["other-grantee@demo.test"]]}
    for oid, label, _, _ in orgs[2:]:
        slug = label.lower().replace(" ", "-").replace(",", "")
        org_users[oid] = [add_user(f"director@{slug}.demo.test", f"Director, {label}", "grantee_certifier", oid),
                          add_user(f"staff@{slug}.demo.test", f"Staff, {label}", "grantee_editor", oid)]
    people = {row["id"]: row for row in rows[User]}
    for code in ("YCCR", "DVHT"):
        rows[ProgramOfficer].append(dict(program_id=programs[code], user_id=officer))
    for code in ("VHTNC", "ASPIRE", "HTYPE", "YCCR", "DVHT"):
        rows[ProgramOfficer].append(dict(program_id=programs[code], user_id=officer_b))

    # Grants: programs weighted toward the community-coordinated response grants.
    current_fy = fiscal_year_of(today)
    first_fy = current_fy - years + 1
    program_cycle = ["YCCR"] * 3 + ["DVHT"] * 3 + ["VHTNC", "ASPIRE", "HTYPE", "HTYPE"]
    grant_plan = []
    # Demo grantee: YCCR and DVHT grants, one of them ended 110 days ago (final report due soon).
    grant_plan.append(("YCCR", orgs[0], "normal"))
    grant_plan.append(("DVHT", orgs[0], "normal"))
    grant_plan.append(("YCCR", orgs[0], "ending"))
    grant_plan.append(("YCCR", orgs[1], "normal"))
    while len(grant_plan) < grant_count:
        i = len(grant_plan)
        org = orgs[2 + (i % (len(orgs) - 2))]
        shape = "ending" if i % 17 == 0 else "normal"
        grant_plan.append((program_cycle[i % len(program_cycle)], org, shape))
    grant_plan = grant_plan[:grant_count]

    serial = defaultdict(int)
    grants = []
    for i, (pcode, org, shape) in enumerate(grant_plan):
        gid = ids("grant")
        serial[pcode] += 1
        award = Decimal(rng.choice((250_000, 400_000, 600_000, 850_000, 1_200_000, 1_500_000)))
        if shape == "ending":
            end = today - timedelta(days=110 - (i % 3))
            start = date(fiscal_year_of(end) - rng.randint(2, 3) - 1, 10, 1)
        elif i < 4:
            start, end = date(first_fy - 1, 10, 1), date(current_fy + 2, 9, 30)
        else:
            # Awards of 3 to 5 years starting across the history window; some have ended.
            start_fy = rng.randint(first_fy - 1, current_fy)
            start = date(start_fy - 1, 10, 1) + timedelta(days=rng.choice((0, 0, 0, 45, 92, 182)))
            end = date(start_fy + rng.randint(2, 4), 9, 30)
        community = communities[(org[2] - 1 + i) % len(communities)] if i > 3 else next(c for c in communities if c[0] == org[2])
        officer_id = officer if pcode in ("YCCR", "DVHT") and i % 7 != 6 else officer_b
        award_number = f"{PROGRAM_PREFIX[pcode]}{serial[pcode]:04d}-{rng.randint(1, 5):02d}-00"
        rows[Grant].append(dict(
            id=gid, award_number=award_number, program_id=programs[pcode], organization_id=org[0],
            community_id=community[0], officer_id=officer_id, start_date=start, end_date=end, award_amount=award,
            status="active" if end >= today else "closed",
            title=f"{pcode} services in {community[1]}"))
        grants.append((gid, pcode, org[0], community[1], start, end, award, officer_id))

    # Reports, versions, values, transitions and remarks.
    demo_targets = {grants[0][0]: "returned", grants[1][0]: "not_started", grants[2][0]: "submitted",
                    grants[3][0]: "submitted"}
    for gid, pcode, org_id, cname, start, end, award, officer_id in grants:
        # Every started period of the award exists, as the open-periods job would make it.
        periods = [p for p in reporting_periods(start, end) if p.start <= today]
        if not periods:
            continue
        rates = rng.uniform(0.75, 1.1)
        clients = max(4.0, float(award) / 40_000 * rng.uniform(0.4, 1.6))
        spent_total = Decimal("0")
        all_periods = reporting_periods(start, end)
        per_period_spend = award / len(all_periods)
        previous_values: dict[str, Decimal] = {}
        shares = {f"SRV-01.service.{c}": rng.uniform(0.1, 0.85) for c, _ in categories("service")}
        certifier = org_users[org_id][0]
        editor = org_users[org_id][-1]
        recent_due = max((p.due_date for p in periods if p.due_date <= today), default=None)
        for p in periods:
            rid = ids("report")
            status, late, returned_once = _plan_status(p.due_date, today, rng)
            if p.due_date == recent_due and gid in demo_targets:
                status, late, returned_once = demo_targets[gid], False, False
            if p.report_type == "final" and p.due_date > today:
                status = "draft"
            extended = None
            demo_target = p.due_date == recent_due and gid in demo_targets
            if status == "not_started" and p.due_date < today and not demo_target and rng.random() < 0.25:
                extended = today + timedelta(days=rng.choice((5, 9, 20, 40)))
            effective = max(p.due_date, extended) if extended else p.due_date
            fraction = ((p.end - p.start).days + 1) / 182.5
            spend = min(award - spent_total, (per_period_spend * Decimal(str(round(rates * fraction, 3)))).quantize(Decimal("0.01")))
            spend = max(Decimal("0"), spend)
            raw = generate_values(specs[pcode], clients * fraction, spend, rng, shares)
            report_row = dict(
                id=rid, grant_id=gid, fiscal_year=p.fiscal_year, half=p.half, report_type=p.report_type,
                period_start=p.start, period_end=p.end, due_date=p.due_date, effective_due_date=effective,
                deadline_at=deadline_instant(effective), status=status, measure_set_id=sets[pcode],
                first_submitted_at=None, last_submitted_at=None, revision_due_date=None, excused_reason=None,
                lock_version=1, created_at=now, updated_at=now, current_version_id=None, official_version_id=None)
            rows[Report].append(report_row)
            if extended:
                rows[ExtensionRequest].append(dict(
                    id=ids("extension"), report_id=rid, requested_by_id=certifier, requested_date=extended,
                    reason="Our data manager was on medical leave; we need more time to reconcile client counts.",
                    status="approved", decided_by_id=officer_id, decided_at=now - timedelta(days=3),
                    approved_date=extended, decision_reason="Approved.", created_at=now - timedelta(days=6), lock_version=1))
            if status == "not_started":
                continue
            if status == "excused":
                report_row["excused_reason"] = "Award activities suspended during the period."
                _add_transition(rows, ids, rid, None, "not_started", "excused", "excuse", officer_id,
                                report_row["excused_reason"], now - timedelta(days=rng.randint(1, 40)))
                continue
            narratives = {k: v.format(period=p.label, community=cname) for k, v in NARRATIVE_TEXT.items()}
            if p.report_type != "final":
                narratives["narrative_cumulative"] = ""
            if status == "draft":
                raw = {k: v for k, v in raw.items() if rng.random() < 0.7}
                narratives = {k: (v if k == "narrative_accomplishments" else "") for k, v in narratives.items()}
            check = check_values(specs[pcode], raw, award, previous_values, spent_total)
            explanations = {w.code: "Enrollment changed with the length of the reporting period and a new referral partner."
                            for w in check.warnings}
            submitted_at = _submitted_at(effective, late, rng) if status != "draft" else None
            if submitted_at and submitted_at > now:
                submitted_at = now - timedelta(hours=rng.randint(2, 200))
            number = 0
            started = (submitted_at or now) - timedelta(days=rng.randint(3, 20))
            versions_plan = []
            if returned_once:
                versions_plan.append("returned")
            versions_plan.append({"accepted": "accepted", "submitted": "submitted", "returned": "returned",
                                  "draft": "draft"}[status])
            _add_transition(rows, ids, rid, None, "not_started", "draft", "edit", editor, "Draft started", started)
            last_vid, first_sub = None, None
            for vstatus in versions_plan:
                number += 1
                vid = ids("version")
                last_vid = vid
                sub_at = submitted_at if vstatus != "draft" else None
                first_sub = first_sub or sub_at
                rows[ReportVersion].append(dict(
                    id=vid, report_id=rid, number=number, status=vstatus, is_amendment=False, amendment_reason=None,
                    explanations=explanations, certified_by_id=certifier if sub_at else None,
                    certifier_name=people[certifier]["name"] if sub_at else None,
                    certifier_title=(people[certifier]["title"] or "Executive Director") if sub_at else None,
                    certifier_phone=people[certifier]["phone"] if sub_at else None,
                    certifier_email=people[certifier]["email"] if sub_at else None,
                    certified_at=sub_at, submitted_at=sub_at, created_by_id=editor, updated_by_id=editor,
                    created_at=started, updated_at=sub_at or started, lock_version=1, **narratives))
                for key, text_value in raw.items():
                    parts = key.split(".")
                    m, d, c = (parts[0], "", "") if len(parts) == 1 else parts
                    rows[ReportValue].append(dict(version_id=vid, measure_code=m, dimension=d, category=c,
                                                  raw=text_value, value=check.values.get(key), valid=True))
                if sub_at:
                    _add_transition(rows, ids, rid, vid, "draft", "submitted", "submit", certifier, "", sub_at)
                if vstatus == "returned":
                    at = sub_at + timedelta(days=rng.randint(3, 12))
                    body = "Please reconcile the age breakdown with total clients served and expand the accomplishments narrative."
                    rows[Remark].append(dict(id=ids("remark"), report_id=rid, version_id=vid, author_id=officer_id,
                                             visibility="public", body=body, created_at=at))
                    rows[Remark].append(dict(id=ids("remark"), report_id=rid, version_id=vid, author_id=officer_id,
                                             visibility="private", body="Second return this year for this grantee; discuss at the site visit.",
                                             created_at=at))
                    _add_transition(rows, ids, rid, vid, "submitted", "returned", "return", officer_id, body, at)
                    if len(versions_plan) > 1 and number == 1:
                        _add_transition(rows, ids, rid, None, "returned", "draft", "edit", editor, "Revision started", at + timedelta(days=1))
                        submitted_at = min(now, at + timedelta(days=rng.randint(2, 10)))
                    else:
                        report_row["revision_due_date"] = max(today + timedelta(days=rng.randint(5, 20)), at.date() + timedelta(days=14))
                if vstatus == "accepted":
                    _add_transition(rows, ids, rid, vid, "submitted", "accepted", "accept", officer_id, "",
                                    min(now, sub_at + timedelta(days=rng.randint(2, 30))))
                    report_row["official_version_id"] = vid
            report_row["current_version_id"] = last_vid
            report_row["first_submitted_at"] = first_sub
            report_row["last_submitted_at"] = submitted_at if status != "draft" else None
            if status in ("accepted", "submitted"):
                spent_total += check.values.get("FIN-01") or Decimal("0")
                previous_values = {k: v for k, v in check.values.items() if v is not None}
            if status == "draft" or (status == "returned" and not returned_once):
                # Returned and draft reports still count toward what the grantee has spent.
                spent_total += check.values.get("FIN-01") or Decimal("0")

    # A pending extension request on the demo grantee's overdue report, for the officer to decide.
    demo_overdue = next((r for r in rows[Report] if r["grant_id"] == grants[1][0] and r["status"] == "not_started"
                         and r["effective_due_date"] < today), None)
    if demo_overdue is not None:
        rows[ExtensionRequest].append(dict(
            id=ids("extension"), report_id=demo_overdue["id"], requested_by_id=user_ids["grantee@demo.test"],
            requested_date=today + timedelta(days=21), reason="Our case-management system migration delayed the data export.",
            status="pending", decided_by_id=None, decided_at=None, approved_date=None, decision_reason="",
            created_at=now - timedelta(days=1), lock_version=1))

    counts = _bulk_insert(rows)
    audit.record("demo.seeded", changes={"grants": grant_count, "years": years}, label="cli", entity_type="demo")
    return counts


def _add_transition(rows, ids, report_id, version_id, from_status, to_status, action, actor_id, comment, at):
    rows[ReportTransition].append(dict(id=ids("transition"), report_id=report_id, version_id=version_id,
                                       from_status=from_status, to_status=to_status, action=action,
                                       actor_id=actor_id, comment=comment, at=at))


INSERT_ORDER = (MeasureDefinition, Program, MeasureSet, MeasureSetItem, Community, Organization, User,
                ProgramOfficer, Grant, Report, ReportVersion, ReportValue, ReportTransition, Remark, ExtensionRequest)


def _bulk_insert(rows: dict[type, list[dict]]) -> dict[str, int]:
    """Insert in dependency order; report -> version links are set after versions exist."""
    counts = {}
    version_links = [(r["id"], r.pop("current_version_id"), r.pop("official_version_id")) for r in rows[Report]]
    for model in INSERT_ORDER:
        batch = rows.get(model, [])
        counts[model.__tablename__] = len(batch)
        for i in range(0, len(batch), 5000):
            db.session.execute(insert(model), batch[i:i + 5000])
    links = [{"rid": rid, "cur": cur, "off": off} for rid, cur, off in version_links if cur or off]
    if links:
        db.session.execute(
            text("UPDATE report SET current_version_id = :cur, official_version_id = :off WHERE id = :rid"), links)
    if db.engine.dialect.name == "postgresql":
        for model in INSERT_ORDER:
            table = model.__table__
            if "id" in table.c and len(table.primary_key.columns) == 1:
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    return counts


def database_is_empty() -> bool:
    return db.session.scalar(select(Program.id).limit(1)) is None


@click.group("demo", help="Demo data.")
def demo_cli() -> None:
    pass


def analyze_after_bulk_load() -> None:
    """Planner statistics for rows just loaded in bulk (PostgreSQL): until autovacuum gets to them,
    a minute or more later, PostgreSQL plans joins blind (the dashboard's reads on 150 grants took
    five times as long). SQLite plans these queries from their indexes alone."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


@demo_cli.command("seed")
@click.option("--grants", "grant_count", default=60, show_default=True, help="Number of grants.")
@click.option("--years", default=3, show_default=True, help="Fiscal years of history.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@with_appcontext
def seed_command(grant_count: int, years: int, if_empty: bool) -> None:
    """Load demo data (with the demo accounts) into an empty database."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Demo data is never loaded in production.")
    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; demo seed skipped.")
            return
        raise click.ClickException("The database is not empty. Seed an empty database.")
    started = time.perf_counter()
    counts = seed(grant_count, years)
    db.session.commit()
    analyze_after_bulk_load()
    elapsed = time.perf_counter() - started
    click.echo(f"Seeded {counts['grant_award']} grants, {counts['report']} reports, "
               f"{counts['report_value']} values in {elapsed:.1f} s.")


COMMANDS = (demo_cli,)
