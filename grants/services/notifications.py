"""Reminders and in-app notifications: the reminder plan, who receives what, and the messages.

DOMAIN.md 'Reminders and escalation'. The plan is a pure function over dates: for a report's
effective due date and today it says which reminder is *current* (the most recent milestone whose
date has come and whose successor has not) and which earlier ones are *superseded*. The deadline
scan (schedules.ledger) turns the same milestone bounds into SQL, so after a downtime only the
current milestone is sent and the missed earlier ones are recorded as skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from grants.errors import NotFound
from grants.extensions import db, insert_ignoring_conflicts
from grants.formatting import fmt_date, plural
from grants.models import (
    GRANTEE_ROLES,
    Grant,
    NotificationLedger,
    Organization,
    Program,
    Report,
    User,
    UserMessage,
    utcnow,
)
from grants.periods import rates
from grants.services.reports import status_label
from grants.services.timeliness import expected_expr, on_time_expr, submitted_expr, timeliness_expr

# (kind, days relative to the effective due date), in the order they fall due.
REMINDER_OFFSETS: tuple[tuple[str, int], ...] = (
    ("due_in_30", -30), ("due_in_14", -14), ("due_in_7", -7), ("due_in_1", -1), ("due_today", 0),
    ("overdue_1", 1), ("overdue_7", 7), ("overdue_30", 30),
)
OFFSET = dict(REMINDER_OFFSETS)
KIND_RANK = {kind: rank for rank, (kind, _) in enumerate(REMINDER_OFFSETS)}
# The grantee's certifiers and editors get every milestone; the assigned officer from 7 days overdue.
AUDIENCE_KINDS = {
    "grantee": tuple(kind for kind, _ in REMINDER_OFFSETS),
    "officer": ("overdue_7", "overdue_30"),
}
# How long the last milestone stays current (and can still be caught up after a downtime).
CATCH_UP_DAYS = 30
SUPERSEDED = "superseded by a later reminder"
KIND_LABELS = {
    "due_in_30": "30 days before the due date", "due_in_14": "14 days before the due date",
    "due_in_7": "7 days before the due date", "due_in_1": "1 day before the due date",
    "due_today": "On the due date", "overdue_1": "1 day overdue", "overdue_7": "7 days overdue",
    "overdue_30": "30 days overdue",
}
STATUS_LABELS = {"pending": "Pending", "sent": "Sent", "failed": "Failed", "skipped": "Skipped"}


@dataclass(frozen=True)
class Milestone:
    """One reminder kind on a given day: it has come when the effective due date is on or before
    `due_on_or_before`, and it is still current while the due date is after `current_after`."""

    kind: str
    due_on_or_before: date
    current_after: date


@dataclass(frozen=True)
class ReminderPlan:
    current: str | None
    superseded: tuple[str, ...]


def milestones(today: date, audience: str) -> tuple[Milestone, ...]:
    """The milestones of an audience's series, expressed as bounds on the effective due date."""
    kinds = AUDIENCE_KINDS[audience]
    result = []
    for i, kind in enumerate(kinds):
        next_offset = OFFSET[kinds[i + 1]] if i + 1 < len(kinds) else OFFSET[kind] + CATCH_UP_DAYS
        result.append(Milestone(kind, today - timedelta(days=OFFSET[kind]), today - timedelta(days=next_offset)))
    return tuple(result)


def reminder_window(today: date) -> tuple[date, date]:
    """(after, on_or_before): effective due dates that have some reminder current or superseded today."""
    first, last = REMINDER_OFFSETS[0][1], REMINDER_OFFSETS[-1][1]
    return today - timedelta(days=last + CATCH_UP_DAYS), today - timedelta(days=first)


def reminder_plan(effective_due: date, today: date, audience: str = "grantee") -> ReminderPlan:
    """Which reminder to send today for a report still not submitted, and which earlier ones of the
    same series it supersedes. Outside the window (more than 30 days ahead, or the last reminder's
    catch-up period over) there is nothing to do."""
    after, on_or_before = reminder_window(today)
    if not after < effective_due <= on_or_before:
        return ReminderPlan(None, ())
    current, superseded = None, []
    for m in milestones(today, audience):
        if effective_due <= m.due_on_or_before:
            if effective_due > m.current_after:
                current = m.kind
            else:
                superseded.append(m.kind)
    return ReminderPlan(current, tuple(superseded))


def reminder_phrase(kind: str) -> str:
    """'due in 7 days', 'due today', '7 days overdue' for subjects and bodies."""
    days = OFFSET[kind]
    if days < 0:
        return f"due in {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "due today"
    return f"{days} day{'s' if days != 1 else ''} overdue"


def why_you_receive(role: str, organization: str, award_number: str) -> str:
    """The footer line: why this person receives the message (there is no unsubscribe)."""
    if role == "grantee_certifier":
        return (f"You receive this because you are an Authorized Official of {organization}, which reports on "
                f"award {award_number}.")
    if role == "grantee_editor":
        return f"You receive this because you edit reports of {organization} for award {award_number}."
    return (f"You receive this because you are the program officer assigned to award {award_number} and the "
            "report is 7 or more days overdue.")


def app_path(endpoint: str, fallback: str, **values) -> str:
    """The URL path of an endpoint without a request (jobs run outside requests)."""
    try:
        return current_app.url_map.bind("localhost").build(endpoint, values)
    except BuildError:
        return fallback


def absolute_url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def report_path(report_id: int) -> str:
    return app_path("reports.report_view", f"/reports/{report_id}", report_id=report_id)


def report_path_for(role: str, report_id: int) -> str:
    """Where a message about a report takes its reader: officers to its review page."""
    if role == "program_officer":
        return app_path("reviews.report_review", f"/review/reports/{report_id}", report_id=report_id)
    return report_path(report_id)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    link: str
    summary: str


def render_mail(template: str, subject: str, link: str, summary: str, **context) -> Rendered:
    """Plain-text and HTML bodies of templates/mail/<template>.txt/.html (HTML autoescaped)."""
    context.update(subject=subject, url=absolute_url(link))
    env = current_app.jinja_env  # no request context processors: mail is rendered by jobs
    return Rendered(subject, env.get_template(f"mail/{template}.txt").render(context),
                    env.get_template(f"mail/{template}.html").render(context), link, summary)


def render_reminder(row) -> Rendered:
    """The reminder message of one ledger row joined with its report (see schedules.ledger)."""
    phrase = reminder_phrase(row.kind)
    period = f"FY{row.fiscal_year} {row.half}"
    kind_of_report = "final report" if row.report_type == "final" else "report"
    subject = f"{period} {kind_of_report} for award {row.award_number} is {phrase}"
    link = report_path_for(row.recipient_role, row.report_id)
    summary = f"The {period} {kind_of_report} for award {row.award_number} ({row.program_code}) is {phrase}."
    return render_mail(
        "reminder", subject, link, summary, row=row, phrase=phrase, period=period, kind_of_report=kind_of_report,
        overdue=OFFSET[row.kind] > 0, status_label=status_label(row.status),
        footer=why_you_receive(row.recipient_role, row.organization_name, row.award_number),
    )


_MESSAGE_INSERT = insert(UserMessage.__table__)  # built once; each call passes its values


def _message_row(user_id: int, subject: str, body: str, link: str, ledger_id: int | None = None) -> dict:
    """One user_message row (subject and link cut to their columns)."""
    return {"user_id": user_id, "subject": subject[:300], "body": body, "link": link[:500], "ledger_id": ledger_id}


def _message_values(user_id: int, rendered: Rendered, ledger_id: int | None) -> dict:
    return _message_row(user_id, rendered.subject, rendered.summary, rendered.link, ledger_id)


def add_user_message(user_id: int, rendered: Rendered, ledger_id: int | None = None) -> None:
    """The in-app copy of a message, shown in the user's notification list."""
    db.session.execute(_MESSAGE_INSERT, _message_values(user_id, rendered, ledger_id))


# A report's status change -> who hears of it in the app, and what: the people whose turn it is.
WORKFLOW_NOTICES = {
    "submit": ("officer", "Submitted for your review"),
    "return": ("grantee", "Returned for revision"),
    "accept": ("grantee", "Accepted"),
    "excuse": ("grantee", "Excused"),
}


def notify_transition(report: Report, action: str, actor_id: int | None, comment: str) -> None:
    """In-app messages about a report's status change (WORKFLOW_NOTICES), in its transaction."""
    notice = WORKFLOW_NOTICES.get(action)
    if notice is None:
        return
    to, what = notice
    body = comment if action != "return" else (
        f"Revised report due {fmt_date(report.revision_due_date)}. What to revise: {comment}")
    notify_about_report(report, to, what, body, actor_id)


def notify_about_report(report: Report, to: str, what: str, body: str, actor_id: int | None) -> None:
    """In-app messages about a report, written in the caller's transaction: to the grant's
    assigned officer (to="officer", linking the review page) or to the organization's active
    certifiers and editors (to="grantee", linking the report). Not to the actor."""
    grant = report.grant
    if to == "officer":
        recipients = [grant.officer_id] if grant.officer_id else []
        link = report_path_for("program_officer", report.id)
    else:
        recipients = list(db.session.scalars(select(User.id).where(
            User.organization_id == grant.organization_id, User.active.is_(True), User.role.in_(GRANTEE_ROLES))))
        link = report_path(report.id)
    subject = f"{what}: {grant.award_number}, {report.period_label}"
    _insert_messages([_message_row(uid, subject, body, link) for uid in recipients], actor_id)


def _insert_messages(rows: list[dict], actor_id: int | None = None) -> None:
    """Write in-app messages (`_message_row`s) in one statement; none to the actor, who knows."""
    rows = [row for row in rows if row["user_id"] != actor_id]
    if rows:
        db.session.execute(_MESSAGE_INSERT, rows)


def notify_assignment(grant, previous_officer_id: int | None, actor_id: int | None) -> None:
    """In-app messages when a grant's program officer changes: the new officer hears that its
    reports are theirs to review, the previous one that they no longer are. Not to the actor."""
    if grant.officer_id == previous_officer_id:
        return
    link = app_path("reports.grant_view", f"/grants/{grant.id}", grant_id=grant.id)
    what = f"{grant.award_number} ({grant.program.code}, {grant.organization.legal_name})"
    rows = []
    if grant.officer_id:
        rows.append(_message_row(grant.officer_id, f"Assigned to you: {grant.award_number}",
                                 f"You are now the program officer of {what}: you review its reports and "
                                 "decide its extension requests.", link))
    if previous_officer_id:
        now = f"{grant.officer.name}'s" if grant.officer else "unassigned"
        rows.append(_message_row(previous_officer_id, f"No longer assigned to you: {grant.award_number}",
                                 f"{what} is now {now}.", link))
    _insert_messages(rows, actor_id)


def notify_imported(assigned: dict[int, list[str]]) -> None:
    """One in-app message to each officer assigned grants by an import: officer id -> award numbers."""
    link = app_path("reviews.portfolio", "/portfolio")
    rows = [_message_row(officer_id, f"{len(awards)} grant{'s' if len(awards) != 1 else ''} assigned to you",
                         f"You are now the program officer of {', '.join(sorted(awards))}: you review their reports "
                         "and decide their extension requests.", link)
            for officer_id, awards in sorted(assigned.items())]
    _insert_messages(rows)


LISTED_AWARDS = 25  # award numbers named in a handover message; the rest are counted


def notify_handover(awards: list[str], previous, receiver, actor_id: int | None) -> None:
    """One in-app message to each officer of a handover (grants.services.handover): the receiver
    hears which grants are now theirs, the previous officer where theirs went. Not to the actor."""
    n = plural(len(awards), "grant", "grants")
    ordered = sorted(awards)
    listed = ", ".join(ordered[:LISTED_AWARDS]) + (
        f" and {len(ordered) - LISTED_AWARDS:,} more" if len(ordered) > LISTED_AWARDS else "")
    link = app_path("reviews.portfolio", "/portfolio")
    rows = [_message_row(receiver.id, f"{n} handed over to you by {previous.name}",
                         f"You are now the program officer of {listed}: you review their reports and decide their "
                         "extension requests.", link),
            _message_row(previous.id, f"{n} handed over to {receiver.name}",
                         f"{listed} {'are' if len(awards) != 1 else 'is'} now {receiver.name}'s: their reports, "
                         "extension requests and reminders go to them.", link)]
    _insert_messages(rows, actor_id)


def add_user_messages(messages: list[tuple[int, Rendered, int]]) -> None:
    """In-app copies of ledger messages, (user id, rendered, ledger id) each, in one statement;
    a ledger row that already has its copy gets no second one."""
    if messages:
        db.session.execute(insert_ignoring_conflicts(UserMessage),
                           [_message_values(*message) for message in messages])


def user_messages(user, page: int = 1, per_page: int = 25):
    query = select(UserMessage).where(UserMessage.user_id == user.id).order_by(
        UserMessage.created_at.desc(), UserMessage.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(UserMessage)
        .where(UserMessage.user_id == user.id, UserMessage.read_at.is_(None))
    ) or 0


def mark_read(user, message_id: int | None = None) -> int:
    """Mark one of the user's messages (or all of them) read; another user's id changes nothing."""
    stmt = update(UserMessage).where(UserMessage.user_id == user.id, UserMessage.read_at.is_(None))
    if message_id is not None:
        stmt = stmt.where(UserMessage.id == message_id)
    return db.session.execute(stmt.values(read_at=utcnow())).rowcount


def reminder_log(report) -> list[NotificationLedger]:
    """Every reminder of a report, sent, pending, skipped or failed, with the reason or error:
    for the officer's review page (templates/notifications/_report_reminders.html)."""
    rows = db.session.scalars(
        select(NotificationLedger).where(NotificationLedger.report_id == report.id)
        .options(joinedload(NotificationLedger.recipient))
    ).all()
    return sorted(rows, key=lambda r: (r.effective_due_date, KIND_RANK.get(r.kind, 99), r.recipient_email))


@dataclass(frozen=True)
class DigestEntry:
    report_id: int
    award_number: str
    program_code: str
    organization: str
    period: str
    effective_due_date: date
    status: str
    timeliness: str
    link: str


DIGEST_LIST_LIMIT = 50


def _digest_query(today: date):
    state = timeliness_expr(today).label("timeliness")
    return (
        select(Report.id, Report.fiscal_year, Report.half, Report.effective_due_date, Report.status, state,
               Grant.award_number, Grant.officer_id, Program.code, Organization.legal_name)
        .join(Grant, Grant.id == Report.grant_id).join(Program, Program.id == Grant.program_id)
        .join(Organization, Organization.id == Grant.organization_id)
    ), state


def _entry(row) -> DigestEntry:
    return DigestEntry(row.id, row.award_number, row.code, row.legal_name, f"FY{row.fiscal_year} {row.half}",
                       row.effective_due_date, row.status, row.timeliness, absolute_url(report_path(row.id)))


def officer_digests(today: date) -> dict[int, dict[str, list[DigestEntry]]]:
    """Per assigned officer: reports due soon, overdue, and awaiting their review (one query)."""
    query, state = _digest_query(today)
    rows = db.session.execute(
        query.where(Grant.officer_id.is_not(None),
                    (state.in_(("due_soon", "overdue"))) | (Report.status == "submitted"))
        .order_by(Report.effective_due_date, Grant.award_number)
    )
    digests: dict[int, dict[str, list[DigestEntry]]] = {}
    for row in rows:
        lists = digests.setdefault(row.officer_id, {"due_soon": [], "overdue": [], "awaiting_review": []})
        entry = _entry(row)
        if row.status == "submitted":
            lists["awaiting_review"].append(entry)
        elif row.timeliness in ("due_soon", "overdue"):
            lists[row.timeliness].append(entry)
    return digests


LONG_OVERDUE_DAYS = 30


def leadership_digest(today: date) -> dict:
    """Program completeness and on-time rates over the reports due in the past 12 months, and
    every report 30 or more days overdue."""
    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    since = today - timedelta(days=365)
    programs = []
    for row in db.session.execute(
        select(Program.code, Program.name, total(expected_expr(today)).label("expected"),
               total(submitted_expr(today)).label("submitted"), total(on_time_expr(today)).label("on_time"))
        .join(Grant, Grant.program_id == Program.id).join(Report, Report.grant_id == Grant.id)
        .where(Report.effective_due_date >= since)
        .group_by(Program.code, Program.name).order_by(Program.code)
    ):
        completeness, on_time_rate = rates(row.expected, row.submitted, row.on_time)
        programs.append({"code": row.code, "name": row.name, "expected": row.expected, "submitted": row.submitted,
                         "on_time": row.on_time, "completeness": completeness, "on_time_rate": on_time_rate})
    query, state = _digest_query(today)
    long_overdue = query.where(state == "overdue",
                               Report.effective_due_date <= today - timedelta(days=LONG_OVERDUE_DAYS))
    count = db.session.scalar(select(func.count()).select_from(long_overdue.subquery()))
    entries = [_entry(row) for row in db.session.execute(
        long_overdue.order_by(Report.effective_due_date, Grant.award_number).limit(DIGEST_LIST_LIMIT * 2))]
    return {"since": since, "programs": programs, "long_overdue": entries, "long_overdue_count": count}


def get_message(user, message_id: int) -> UserMessage:
    """One of the user's own messages; anyone else's id is NotFound."""
    message = db.session.scalar(select(UserMessage).where(UserMessage.id == message_id, UserMessage.user_id == user.id))
    if message is None:
        raise NotFound("We could not find that notification.")
    return message
