"""Handing a program officer's grants over to another officer (admin only): when an officer leaves,
goes on leave or changes portfolio, their grants move together instead of one grant page at a time.

What moves with a grant is everything that hangs on its officer: its reports waiting for review,
its pending extension requests and its reminders and escalations from then on (they follow
Grant.officer_id). The officer's programs (grants.services.users.set_officer_programs) are not
changed: they decide what else an officer sees, not whose grants these are.

One transaction: every chosen grant moves, or none does. The page lists the officer's grants as
they were when it was drawn (`fingerprint`); when they changed meanwhile (someone assigned or moved
a grant), nothing moves and the page asks again with the new figures. Each grant's change goes
into the audit trail like a change made on its own page, and each officer is told once, in the
app, of all the grants.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from grants import audit
from grants.errors import ValidationFailed
from grants.extensions import db
from grants.models import ExtensionRequest, Grant, Program, Report, User
from grants.services import notifications
from grants.services.awards import is_row_id, officer_choices

ALL_PROGRAMS = 0  # the program choice that means every one of the officer's grants


@dataclass(frozen=True)
class ProgramLoad:
    """One program's share of an officer's grants, as the handover page lists it."""

    program_id: int
    code: str
    name: str
    grants: int
    active: int
    awaiting_review: int
    pending_extensions: int


@dataclass(frozen=True)
class HandedOver:
    moved: list[str]  # award numbers
    to: User


def officer_load(officer: User) -> list[ProgramLoad]:
    """The officer's grants by program: how many, how many active, and the work that moves with them."""
    mine = Grant.officer_id == officer.id
    grants = dict(((pid, (n, active)) for pid, n, active in db.session.execute(
        select(Grant.program_id, func.count(Grant.id), func.count(Grant.id).filter(Grant.status == "active"))
        .where(mine).group_by(Grant.program_id))))
    reviews = dict(db.session.execute(
        select(Grant.program_id, func.count(Report.id)).join(Report, Report.grant_id == Grant.id)
        .where(mine, Report.status == "submitted").group_by(Grant.program_id)).all())
    extensions = dict(db.session.execute(
        select(Grant.program_id, func.count(ExtensionRequest.id))
        .join(Report, Report.grant_id == Grant.id).join(ExtensionRequest, ExtensionRequest.report_id == Report.id)
        .where(mine, ExtensionRequest.status == "pending").group_by(Grant.program_id)).all())
    programs = db.session.execute(select(Program.id, Program.code, Program.name)
                                  .where(Program.id.in_(grants)).order_by(Program.code))
    return [ProgramLoad(pid, code, name, *grants[pid], reviews.get(pid, 0), extensions.get(pid, 0))
            for pid, code, name in programs]


def fingerprint(officer: User) -> str:
    """Which grants the officer has, in a few characters: a page carries it, and a handover from a
    page whose grants are no longer the officer's grants is refused."""
    ids = db.session.scalars(select(Grant.id).where(Grant.officer_id == officer.id).order_by(Grant.id))
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]


def receiver_choices(officer: User) -> list[tuple[int, str]]:
    """Who can take the grants over: every active program officer but this one."""
    return [(uid, name) for uid, name in officer_choices() if uid != officer.id]


def hand_over(officer: User, data: Mapping, actor_id: int | None) -> HandedOver:
    """Move the officer's grants (data["program_id"]: one program's, or ALL_PROGRAMS) to
    data["to_officer_id"]. data["expected"] is the `fingerprint` of the grants the admin's page listed."""
    errors: dict[str, list[str]] = {}
    programs = set(db.session.scalars(select(Grant.program_id).where(Grant.officer_id == officer.id).distinct()))
    program_id = data.get("program_id")
    if program_id != ALL_PROGRAMS and not (is_row_id(program_id) and program_id in programs):
        errors["program_id"] = [f"Choose which of {officer.name}'s grants to move."]
    to_id = data.get("to_officer_id")
    receivers = dict(receiver_choices(officer))
    if not (is_row_id(to_id) and to_id in receivers):
        errors["to_officer_id"] = [f"Choose the active program officer who takes over {officer.name}'s grants."]
    if not programs:
        errors["program_id"] = [f"{officer.name} has no grants to move."]
    if errors:
        raise ValidationFailed("No grant was moved. Fix the problems listed.", errors)
    if data.get("expected") != fingerprint(officer):
        raise ValidationFailed(
            "No grant was moved: the grants changed since the page was opened.",
            {"program_id": [f"No grant was moved: {officer.name}'s grants changed since the page was opened. "
                            "Check the figures below and move them again."]})
    query = select(Grant).where(Grant.officer_id == officer.id).order_by(Grant.award_number)
    if program_id != ALL_PROGRAMS:
        query = query.where(Grant.program_id == program_id)
    grants = db.session.scalars(query.with_for_update()).all()
    receiver = db.session.get(User, to_id)
    for grant in grants:
        grant.officer_id = receiver.id
    db.session.flush()  # one audited change per grant, and each grant's lock_version moves on
    moved = [grant.award_number for grant in grants]
    audit.record("grant.handover", officer, {"officer": [officer.name, receiver.name], "grants moved": [None, len(moved)]})
    notifications.notify_handover(moved, officer, receiver, actor_id)
    return HandedOver(moved, receiver)
