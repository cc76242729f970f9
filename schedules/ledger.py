"""The notification ledger: each (report, kind, effective due date, recipient) at most once.

How a reminder goes out exactly once, whatever restarts, retries or duplicate schedulers:

1. `record_due_reminders` computes, in one INSERT ... SELECT per audience, a row for every
   milestone that has come (grants.services.notifications.milestones) of every report still to be
   submitted, for every recipient, and inserts it with ON CONFLICT DO NOTHING on the unique key.
   The current milestone goes in as `pending`; earlier ones of the same series that were never
   written go in as `skipped` ("superseded by a later reminder"), so after a downtime one
   catch-up message goes, not one per missed day. Rows already there are never touched.
2. The rows are committed *before* anything is sent.
3. `send_pending` claims a batch of due pending rows (attempts + 1, next_attempt_at = now +
   CLAIM_TIMEOUT, committed) and writes their in-app copies (once per row, committed), then sends
   each and marks it `sent` (or schedules a retry) in its own commit. A crash between sending and marking resends at most that one message: the row is
   still `pending` with attempts > 0, and becomes due again once its claim is CLAIM_TIMEOUT old.
   Rows claimed but not yet tried when the crash happened are retried the same way, so nothing is
   missed. SMTP failures back off exponentially (RETRY_BASE * 2^(attempts-1)); after
   MAX_ATTEMPTS the row is `failed` with the last error.
4. `skip_unremindable` turns pending rows of submitted or excused reports, of a changed due date
   (an extension starts a new series) and of inactive recipients into `skipped` with the reason.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Connection,
    Date,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from grants.extensions import db, insert_ignoring_conflicts
from grants.mail import build_message, open_mailer
from grants.models import (
    GRANTEE_ROLES,
    Grant,
    NotificationLedger,
    Organization,
    Program,
    Report,
    User,
    UTCDateTime,
    utcnow,
)
from grants.periods import deadline_instant
from grants.services import notifications

# Reports that still need submitting: not with the officer, not accepted, not excused.
REMINDABLE_STATUSES = ("not_started", "draft")
CLAIM_TIMEOUT = timedelta(minutes=5)
RETRY_BASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
BATCH = 200

L = NotificationLedger


def _milestone_table(today: date, audience: str):
    rows = [
        select(cast(literal(m.kind), String(40)).label("kind"),
               literal(m.due_on_or_before, Date).label("due_on_or_before"),
               literal(m.current_after, Date).label("current_after"))
        for m in notifications.milestones(today, audience)
    ]
    return union_all(*rows).subquery(f"milestone_{audience}")


def _candidates(today: date, now: datetime, audience: str):
    """(report, kind, effective due date, recipient, ...) rows of one audience, as a SELECT."""
    m = _milestone_table(today, audience)
    after, on_or_before = notifications.reminder_window(today)
    if audience == "grantee":
        recipient = and_(User.organization_id == Grant.organization_id, User.role.in_(GRANTEE_ROLES))
    else:
        recipient = User.id == Grant.officer_id
    current = Report.effective_due_date > m.c.current_after
    inactive = User.active.is_(False)
    return (
        select(
            Report.id, m.c.kind, Report.effective_due_date, User.id, User.email,
            case((inactive, literal("skipped")), (current, literal("pending")), else_=literal("skipped")),
            case((inactive, literal("recipient inactive")), (current, literal("")),
                 else_=literal(notifications.SUPERSEDED)),
            literal(0), literal(""), literal(now, UTCDateTime()),
        )
        .select_from(Report)
        .join(Grant, Grant.id == Report.grant_id)
        .join(User, recipient)
        .where(
            Report.status.in_(REMINDABLE_STATUSES),
            Report.deadline_at > deadline_instant(after),
            Report.deadline_at <= deadline_instant(on_or_before),
            Report.effective_due_date <= m.c.due_on_or_before,
        )
    )


LEDGER_COLUMNS = ("report_id", "kind", "effective_due_date", "recipient_id", "recipient_email", "status",
                  "reason", "attempts", "last_error", "created_at")


def record_due_reminders(today: date, now: datetime | None = None) -> int:
    """Write the ledger rows of every reminder that has come today (set-based; idempotent)."""
    now = now or utcnow()
    inserted = 0
    for audience in notifications.AUDIENCE_KINDS:
        stmt = insert_ignoring_conflicts(L).from_select(LEDGER_COLUMNS, _candidates(today, now, audience))
        # RETURNING counts the rows really inserted (psycopg reports no rowcount for ON CONFLICT).
        inserted += len(db.session.execute(stmt.returning(L.__table__.c.id)).all())
    return inserted


def supersede_pending() -> int:
    """Pending rows with a later milestone of the same series already in the ledger are skipped."""
    later = aliased(L)
    rank = lambda column: case(notifications.KIND_RANK, value=column, else_=-1)  # noqa: E731
    stmt = update(L).where(
        L.status == "pending",
        exists().where(later.report_id == L.report_id, later.recipient_id == L.recipient_id,
                       later.effective_due_date == L.effective_due_date, rank(later.kind) > rank(L.kind)),
    ).values(status="skipped", reason=notifications.SUPERSEDED, next_attempt_at=None)
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).rowcount


def skip_unremindable() -> int:
    """Pending rows that must no longer go out become skipped, with the reason."""
    rules = (
        ("report submitted", L.report_id.in_(
            select(Report.id).where(Report.status.in_(("submitted", "accepted", "returned"))))),
        ("report excused", L.report_id.in_(select(Report.id).where(Report.status == "excused"))),
        ("due date changed: a new reminder series starts", exists().where(
            Report.id == L.report_id, Report.effective_due_date != L.effective_due_date)),
        ("recipient inactive", L.recipient_id.in_(select(User.id).where(User.active.is_(False)))),
    )
    skipped = 0
    for reason, condition in rules:
        stmt = update(L).where(L.status == "pending", condition).values(
            status="skipped", reason=reason, next_attempt_at=None)
        skipped += db.session.execute(stmt, execution_options={"synchronize_session": False}).rowcount
    return skipped


def _due(now: datetime):
    return and_(L.status == "pending", or_(L.next_attempt_at.is_(None), L.next_attempt_at <= now))


def _message_rows(ids: list[int]):
    return db.session.execute(
        select(
            L.id, L.kind, L.report_id, L.recipient_id, L.recipient_email, L.attempts, L.effective_due_date,
            User.name.label("recipient_name"), User.role.label("recipient_role"),
            Report.fiscal_year, Report.half, Report.report_type, Report.period_start, Report.period_end,
            Report.due_date, Report.status, Grant.award_number, Grant.title.label("grant_title"),
            Program.code.label("program_code"), Program.name.label("program_name"),
            Organization.legal_name.label("organization_name"),
        )
        .join(User, User.id == L.recipient_id).join(Report, Report.id == L.report_id)
        .join(Grant, Grant.id == Report.grant_id).join(Program, Program.id == Grant.program_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .where(L.id.in_(ids)).order_by(L.id)
    ).all()


def claim(now: datetime, limit: int = BATCH) -> list[int]:
    """Claim up to `limit` due pending rows (committed): attempts + 1, not due again for a while."""
    ids = db.session.scalars(select(L.id).where(_due(now)).order_by(L.id).limit(limit)).all()
    if not ids:
        return []
    claimed = db.session.scalars(
        update(L).where(L.id.in_(ids), _due(now))
        .values(attempts=L.attempts + 1, next_attempt_at=now + CLAIM_TIMEOUT).returning(L.id),
        execution_options={"synchronize_session": False},
    ).all()
    db.session.commit()
    return sorted(claimed)


def retry_delay(attempts: int) -> timedelta:
    return RETRY_BASE * 2 ** max(0, attempts - 1)


_MARK_STATEMENTS: dict[tuple[str, ...], object] = {}


def _mark(conn, ledger_id: int, **values) -> None:
    """Update one ledger row on `conn`. The statement for each set of columns is built once per
    process: building it anew for every message of a big scan costs as much as running it."""
    columns = tuple(sorted(values))
    statement = _MARK_STATEMENTS.get(columns)
    if statement is None:
        table = L.__table__
        statement = _MARK_STATEMENTS[columns] = update(table).where(table.c.id == bindparam("ledger_row")).values(
            {name: bindparam(name) for name in columns})
    conn.execute(statement, {"ledger_row": ledger_id, **values})


def send_pending(lease=None, now: datetime | None = None) -> dict[str, int]:
    """Send every due pending reminder, one transaction per message (see the module docstring).

    For each claimed batch: render every message, write their in-app copies in one statement
    (idempotent: user_message.ledger_id is unique, so a retried or re-claimed row adds nothing),
    then per message send it and mark its ledger row, one statement in its own transaction.
    The marks go through one Core connection held for the batch: the ORM session's
    per-statement and per-commit bookkeeping cost more than the statements themselves. On
    PostgreSQL that connection is in autocommit (the mark is a single statement, so one round
    trip instead of BEGIN, UPDATE, COMMIT) and its commits do not wait for the WAL flush
    (synchronous_commit off, for it only): the durability of SQLite's WAL with
    synchronous=NORMAL. A crash of the scheduler loses no mark; a crash of the database server
    itself could lose the last fraction of a second of them, whose messages would go once more.
    """
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    with open_mailer() as mailer:
        while ids := claim(now or utcnow()):
            batch = [(row, _render(row)) for row in _message_rows(ids)]
            notifications.add_user_messages(
                [(row.recipient_id, rendered, row.id) for row, rendered in batch if not isinstance(rendered, Exception)])
            db.session.commit()  # the in-app copies are there before any mail goes
            with _marking_connection() as conn:
                for row, rendered in batch:
                    # The mark's statement begins the transaction (after the send: on SQLite the
                    # write lock is not held while the mail goes), and this commit ends it.
                    _deliver(conn, mailer, row, rendered, counts)
                    conn.commit()
            if lease is not None:
                lease.keep_alive()
    return counts


def _render(row):
    try:
        return notifications.render_reminder(row)
    except Exception as exc:  # noqa: BLE001 - recorded on the row like a failure to send
        return exc


@contextmanager
def _marking_connection() -> Iterator[Connection]:
    """A Core connection for the marks; on PostgreSQL in autocommit without waiting for the WAL
    flush (both undone before the connection goes back to the pool)."""
    conn = db.engine.connect()
    postgresql = conn.dialect.name == "postgresql"
    try:
        if postgresql:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn
    finally:
        try:
            if postgresql and not conn.invalidated:
                conn.exec_driver_sql("RESET synchronous_commit")  # autocommit: takes effect at once
        finally:
            conn.close()


def _deliver(conn, mailer, row, rendered, counts: dict[str, int]) -> None:
    try:
        if isinstance(rendered, Exception):
            raise rendered
        mailer.send(build_message(row.recipient_email, rendered.subject, rendered.text, rendered.html,
                                  {"X-Notification-Id": str(row.id)}))
    except Exception as exc:  # noqa: BLE001 - any failure to send is recorded on the row and retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            _mark(conn, row.id, status="failed", reason=f"gave up after {row.attempts} attempts", last_error=error,
                  next_attempt_at=None)
            counts["failed"] += 1
        else:
            _mark(conn, row.id, last_error=error, next_attempt_at=utcnow() + retry_delay(row.attempts))
            counts["retrying"] += 1
        return
    _mark(conn, row.id, status="sent", sent_at=utcnow(), next_attempt_at=None, last_error="", reason="")
    counts["sent"] += 1
