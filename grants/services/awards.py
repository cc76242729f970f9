"""Award administration: the organizations, communities and grants that reports hang on (admin only).

Admins set up and correct this reference data; they never touch a report's content. Every save is
one transaction and is checked against the version the admin's page was read at (lock_version):
an edit made on an out-of-date page is refused, with the saved values shown, instead of
overwriting someone else's. Every change goes into the audit trail (grants.audit, old -> new).

A grant's reports follow its period of performance (grants.periods.reporting_periods): saving a
grant opens the reports of its started periods and realigns its unsubmitted ones at once
(grants.services.open_periods), instead of at the nightly job. Once a grant has reports, its
award number, program, organization and start date stay as they are (the reports, their measure
sets and their periods were made from them); the end date may move, and the final report moves
with it. Reports of periods after a shortened end are kept (nothing is deleted) for the program
officer to excuse.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from grants import audit
from grants.errors import NotFound, StaleEdit, ValidationFailed
from grants.extensions import db
from grants.models import COMMUNITY_TYPES, GRANT_STATUSES, Community, Grant, Organization, Program, Report, User
from grants.periods import eastern_today
from grants.regions import STATES, hhs_region
from grants.services import notifications
from grants.services.open_periods import open_reporting_periods
from grants.validation import clean_text

PER_PAGE = 50
AWARD_NUMBER = re.compile(r"\d{2}[A-Z]{2}\d{4}-\d{2}-\d{2}")  # 90ZV0101-01-00, as on the Notice of Award
EIN = re.compile(r"\d{2}-\d{7}")
UEI = re.compile(r"[A-HJ-NP-Z1-9][A-HJ-NP-Z0-9]{11}")  # SAM.gov: 12 characters, no O or I, not starting with 0
ZIP_CODE = re.compile(r"\d{5}(-\d{4})?")
AMOUNT_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_PERFORMANCE_YEARS = 10
GRANT_STATUS_LABELS = {"active": "Active", "suspended": "Suspended", "closed": "Closed"}
GRANT_STATUS_TAGS = {"active": "accepted", "suspended": "returned", "closed": "excused"}  # the tag colour of each
# Fields of a grant fixed once it has reports (see the module's note).
FIXED_WITH_REPORTS = ("award_number", "program_id", "organization_id", "start_date")


def _contains(column, text: str):
    return func.lower(column).contains(text.strip().lower(), autoescape=True)


def check_lock(obj, expected: int | str | None, what: str) -> None:
    """Refuse an edit made on a page read at another version of `obj` (its lock_version)."""
    if expected in (None, ""):
        return
    try:
        read_at = int(expected)
    except (TypeError, ValueError):  # an altered page: not the version of anything
        read_at = None
    if read_at != obj.lock_version:
        raise StaleEdit(f"This {what} was changed by someone else after you opened it, so your changes were not "
                        "saved. The saved values are listed below; check them, then save again.", current=obj)


def _text(data: Mapping, key: str, label: str, errors: dict, *, required: bool = True, max_length: int = 200) -> str:
    value, error = clean_text(data.get(key), label, required=required, max_length=max_length)
    if error:
        errors[key] = [error]
    return value


def _pattern(data: Mapping, key: str, pattern: re.Pattern, message: str, errors: dict, *, required: bool = True) -> str:
    value = (data.get(key) or "").strip().upper()
    if (value or required) and not pattern.fullmatch(value):
        errors[key] = [message]
    return value


def _state(data: Mapping, errors: dict) -> str:
    state = (data.get("state") or "").strip().upper()
    if state not in STATES:
        errors["state"] = ["Choose a state or territory."]
    return state


def _taken(model, column, value, own_id: int | None) -> bool:
    query = select(model.id).where(column == value)
    if own_id is not None:
        query = query.where(model.id != own_id)
    return db.session.scalar(query.limit(1)) is not None


# --- organizations ------------------------------------------------------------------------------

def organization_query(q: str = "") -> Select:
    query = select(Organization).options(selectinload(Organization.grants)).order_by(Organization.legal_name,
                                                                                     Organization.id)
    if q:
        query = query.where(or_(_contains(Organization.legal_name, q), _contains(Organization.ein, q),
                                _contains(Organization.uei, q), _contains(Organization.city, q)))
    return query


def get_or_404(model, object_id: int, what: str):
    """The row, or NotFound naming what was looked for."""
    found = db.session.get(model, object_id) if is_row_id(object_id) else None
    if found is None:
        raise NotFound(f"We could not find that {what}.")
    return found


def get_organization(organization_id: int) -> Organization:
    return get_or_404(Organization, organization_id, "organization")


def save_organization(organization: Organization | None, data: Mapping, expected_lock=None) -> Organization:
    """Create (organization None) or update an organization from `data` (the form's fields)."""
    if organization is not None:
        check_lock(organization, expected_lock, "organization")
    own_id = organization.id if organization else None
    errors: dict[str, list[str]] = {}
    legal_name = _text(data, "legal_name", "the organization's legal name", errors)
    ein = _pattern(data, "ein", EIN, "Enter the EIN as 2 digits, a hyphen and 7 digits, like 12-3456789.", errors)
    uei = _pattern(data, "uei", UEI, "Enter the 12-character Unique Entity ID from SAM.gov (letters and digits, "
                                     "no O or I, not starting with 0).", errors)
    address = _text(data, "address", "a street address", errors, required=False, max_length=300)
    city = _text(data, "city", "a city", errors, required=False, max_length=100)
    state = _state(data, errors)
    zip_code = _pattern(data, "zip_code", ZIP_CODE, "Enter a 5-digit ZIP code, or ZIP+4 like 20201-0001.", errors,
                        required=False)
    if "ein" not in errors and _taken(Organization, Organization.ein, ein, own_id):
        errors["ein"] = ["Another organization has this EIN."]
    if "uei" not in errors and _taken(Organization, Organization.uei, uei, own_id):
        errors["uei"] = ["Another organization has this Unique Entity ID."]
    if errors:
        raise ValidationFailed("The organization was not saved. Fix the problems listed.", errors)
    organization = organization or Organization()
    organization.legal_name, organization.ein, organization.uei = legal_name, ein, uei
    organization.address, organization.city, organization.state, organization.zip_code = address, city, state, zip_code
    db.session.add(organization)
    db.session.flush()
    return organization


def organization_choices() -> list[tuple[int, str]]:
    return [(oid, f"{name} ({state})") for oid, name, state in db.session.execute(
        select(Organization.id, Organization.legal_name, Organization.state).order_by(Organization.legal_name))]


# --- communities --------------------------------------------------------------------------------

def community_query(q: str = "", state: str = "") -> Select:
    query = select(Community).order_by(Community.state, Community.name, Community.id)
    if q:
        query = query.where(_contains(Community.name, q))
    if state:
        query = query.where(Community.state == state.upper())
    return query


def get_community(community_id: int) -> Community:
    return get_or_404(Community, community_id, "community")


def save_community(community: Community | None, data: Mapping, expected_lock=None) -> Community:
    """Create or update a community; its HHS region follows from its state, never typed."""
    if community is not None:
        check_lock(community, expected_lock, "community")
    errors: dict[str, list[str]] = {}
    name = _text(data, "name", "the community's name", errors)
    state = _state(data, errors)
    community_type = data.get("community_type") or ""
    if community_type not in COMMUNITY_TYPES:
        errors["community_type"] = ["Choose the kind of community."]
    if not errors:
        query = select(Community.id).where(func.lower(Community.name) == name.lower(), Community.state == state)
        if community is not None:
            query = query.where(Community.id != community.id)
        if db.session.scalar(query.limit(1)) is not None:
            errors["name"] = [f"There is already a community called {name} in {state}."]
    if errors:
        raise ValidationFailed("The community was not saved. Fix the problems listed.", errors)
    community = community or Community()
    community.name, community.state, community.community_type = name, state, community_type
    community.hhs_region = hhs_region(state)
    db.session.add(community)
    db.session.flush()
    return community


def community_choices() -> list[tuple[int, str]]:
    return [(cid, f"{name} ({state})") for cid, name, state in db.session.execute(
        select(Community.id, Community.name, Community.state).order_by(Community.state, Community.name))]


# --- grants -------------------------------------------------------------------------------------

UNASSIGNED = "none"  # the grant list's officer filter for grants without an officer


def grant_query(q: str = "", program: str = "", status: str = "", officer: str = "") -> Select:
    """The grant list: `officer` is an officer's id, UNASSIGNED, or "" for any."""
    query = (select(Grant).join(Organization, Organization.id == Grant.organization_id)
             .join(Program, Program.id == Grant.program_id)
             .options(joinedload(Grant.organization), joinedload(Grant.program), joinedload(Grant.community),
                      joinedload(Grant.officer))
             .order_by(Grant.award_number))
    if q:
        query = query.where(or_(_contains(Grant.award_number, q), _contains(Grant.title, q),
                                _contains(Organization.legal_name, q)))
    if program:
        query = query.where(Program.code == program)
    if status in GRANT_STATUSES:
        query = query.where(Grant.status == status)
    if officer == UNASSIGNED:
        query = query.where(Grant.officer_id.is_(None))
    elif officer.isdigit() and is_row_id(int(officer)):
        query = query.where(Grant.officer_id == int(officer))
    return query


def get_grant(grant_id: int) -> Grant:
    return get_or_404(Grant, grant_id, "grant")


def has_reports(grant: Grant | None) -> bool:
    return grant is not None and grant.id is not None and db.session.scalar(
        select(Report.id).where(Report.grant_id == grant.id).limit(1)) is not None


def grant_reports(grant: Grant) -> list[Report]:
    """The grant's reporting calendar as it stands (dates and status only, never content)."""
    return list(db.session.scalars(select(Report).where(Report.grant_id == grant.id).order_by(Report.period_start)))


def program_codes() -> list[str]:
    return list(db.session.scalars(select(Program.code).order_by(Program.code)))


def program_choices() -> list[tuple[int, str]]:
    return [(pid, f"{code}: {name}") for pid, code, name in db.session.execute(
        select(Program.id, Program.code, Program.name).order_by(Program.code))]


def officer_choices(grant: Grant | None = None) -> list[tuple[int, str]]:
    """The active program officers, and the grant's own officer whatever became of their account."""
    choices = [(uid, name) for uid, name in db.session.execute(
        select(User.id, User.name).where(User.role == "program_officer", User.active.is_(True)).order_by(User.name))]
    if grant is not None and grant.officer is not None and grant.officer_id not in {uid for uid, _ in choices}:
        choices.insert(0, (grant.officer_id, f"{grant.officer.name} (account deactivated)"))
    return choices


def officer_filter_choices() -> list[tuple[str, str]]:
    """Every program officer the grant list can be filtered by, deactivated accounts included."""
    return [(UNASSIGNED, "Unassigned")] + [
        (str(uid), name if active else f"{name} (account deactivated)") for uid, name, active in db.session.execute(
            select(User.id, User.name, User.active).where(User.role == "program_officer").order_by(User.name))]


ID_MAX = 2**63 - 1  # the databases' integer keys


def is_row_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


def _exists(model, value) -> bool:
    return is_row_id(value) and db.session.get(model, value) is not None


def _dates(data: Mapping, errors: dict) -> tuple[date | None, date | None]:
    start, end = data.get("start_date"), data.get("end_date")
    if not isinstance(start, date):
        errors["start_date"] = ["Enter the first day of the period of performance."]
    if not isinstance(end, date):
        errors["end_date"] = ["Enter the last day of the period of performance."]
    if isinstance(start, date) and isinstance(end, date):
        if end <= start:
            errors["end_date"] = ["The period of performance must end after it starts."]
        elif end.year - start.year > MAX_PERFORMANCE_YEARS:
            errors["end_date"] = [f"A period of performance is at most {MAX_PERFORMANCE_YEARS} years; check the dates."]
    return start, end


def parse_amount(raw) -> Decimal | None:
    """Dollars as typed ("600,000", "$600000.00") as a Decimal; None when blank or not a number."""
    text = str(raw or "").replace(",", "").replace("$", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _amount(raw, errors: dict) -> Decimal | None:
    amount = parse_amount(raw)
    if amount is None:
        errors["award_amount"] = ["Enter the award amount in dollars, like 600000 or 600,000.00."
                                  if str(raw or "").strip() else "Enter the award amount."]
    elif amount <= 0 or amount > AMOUNT_MAX:
        errors["award_amount"] = ["Enter an amount greater than $0 and under $1 trillion."]
    elif amount != amount.quantize(Decimal("0.01")):
        errors["award_amount"] = ["Use whole cents (at most 2 decimal places)."]
    return amount


@dataclass(frozen=True)
class GrantSaved:
    grant: Grant
    opened: int  # reports opened for started periods
    realigned: int  # unsubmitted reports moved to the new calendar (end date changed)
    outside_performance: int  # unsubmitted reports of periods after the end date, left for the officer to excuse


def save_grant(grant: Grant | None, data: Mapping, expected_lock=None, today: date | None = None,
               notify: bool = True) -> GrantSaved:
    """Create (grant None) or update a grant from `data` (the form's fields), then bring its
    reports in line with its period of performance. A change of officer is told to both officers
    (`notify`; an import tells each officer once, of all their grants)."""
    if grant is not None:
        check_lock(grant, expected_lock, "grant")
    fixed = has_reports(grant)
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    if fixed:
        values.update({key: getattr(grant, key) for key in FIXED_WITH_REPORTS})
        _dates({**data, "start_date": grant.start_date}, errors)
        values["end_date"] = data.get("end_date")
    else:
        award_number = _pattern(data, "award_number", AWARD_NUMBER,
                                "Enter the award number as on the Notice of Award, like 90ZV0101-01-00.", errors)
        if "award_number" not in errors and _taken(Grant, Grant.award_number, award_number,
                                                     grant.id if grant else None):
            errors["award_number"] = [f"Another grant has award number {award_number}."]
        if not _exists(Program, data.get("program_id")):
            errors["program_id"] = ["Choose the program."]
        if not _exists(Organization, data.get("organization_id")):
            errors["organization_id"] = ["Choose the grantee organization."]
        start, end = _dates(data, errors)
        values.update(award_number=award_number, program_id=data.get("program_id"),
                      organization_id=data.get("organization_id"), start_date=start, end_date=end)
    if not _exists(Community, data.get("community_id")):
        errors["community_id"] = ["Choose the community the grant serves."]
    officer_id = data.get("officer_id") or None
    kept = grant is not None and officer_id == grant.officer_id  # even if that account was deactivated since
    if officer_id is not None and not kept and officer_id not in {uid for uid, _ in officer_choices()}:
        errors["officer_id"] = ["Choose an active program officer, or leave the grant unassigned."]
    title = _text(data, "title", "a title", errors, required=False, max_length=300)
    amount = _amount(data.get("award_amount"), errors)
    status = data.get("status") or ""
    if status not in GRANT_STATUSES:
        errors["status"] = ["Choose the grant's status."]
    if errors:
        raise ValidationFailed("The grant was not saved. Fix the problems listed.", errors)
    previous_officer_id = grant.officer_id if grant else None
    grant = grant or Grant()
    for key, value in values.items():
        setattr(grant, key, value)
    grant.community_id, grant.officer_id, grant.title = data["community_id"], officer_id, title
    grant.award_amount, grant.status = amount, status
    db.session.add(grant)
    db.session.flush()
    if notify:
        db.session.refresh(grant, ["officer", "program", "organization"])
        notifications.notify_assignment(grant, previous_officer_id, audit.actor()[0])
    counts = open_reporting_periods(today or eastern_today(), [grant.id])
    return GrantSaved(grant, counts["opened"], counts["realigned"], counts["outside_performance"])
