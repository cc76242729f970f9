"""Deadline reminders: the plan as a pure function, and deadline-scan end to end with time frozen
at each reminder offset and a real SMTP server (aiosmtpd) receiving the mail."""
from __future__ import annotations

import email
import socket
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from grants.extensions import db
from grants.models import NotificationLedger, Report, UserMessage
from grants.periods import EASTERN, deadline_instant
from grants.services import notifications
from grants.services.notifications import reminder_plan
from schedules import ledger
from schedules.jobs import run_job
from tests.factories import GrantFactory, OrganizationFactory, UserFactory, program

DUE = date(2026, 4, 30)
GRANTEE_SERIES = [("due_in_30", -30), ("due_in_14", -14), ("due_in_7", -7), ("due_in_1", -1), ("due_today", 0),
                  ("overdue_1", 1), ("overdue_7", 7), ("overdue_30", 30)]


# --- the plan: a pure function over dates ---------------------------------------------------

@pytest.mark.parametrize(("kind", "offset"), GRANTEE_SERIES)
def test_each_milestone_is_current_on_its_day(kind, offset):
    plan = reminder_plan(DUE, DUE + timedelta(days=offset))
    assert plan.current == kind
    assert plan.superseded == tuple(k for k, o in GRANTEE_SERIES if o < offset)


def test_between_milestones_the_last_one_that_came_stays_current():
    assert reminder_plan(DUE, DUE - timedelta(days=20)).current == "due_in_30"
    assert reminder_plan(DUE, DUE - timedelta(days=8)).current == "due_in_14"
    assert reminder_plan(DUE, DUE + timedelta(days=29)).current == "overdue_7"


def test_nothing_before_the_first_reminder_or_after_the_last_ones_catch_up_period():
    assert reminder_plan(DUE, DUE - timedelta(days=31)) == notifications.ReminderPlan(None, ())
    assert reminder_plan(DUE, DUE + timedelta(days=59)).current == "overdue_30"
    assert reminder_plan(DUE, DUE + timedelta(days=60)) == notifications.ReminderPlan(None, ())


def test_officer_series_starts_at_seven_days_overdue():
    assert reminder_plan(DUE, DUE + timedelta(days=6), "officer").current is None
    assert reminder_plan(DUE, DUE + timedelta(days=7), "officer") == notifications.ReminderPlan("overdue_7", ())
    assert reminder_plan(DUE, DUE + timedelta(days=31), "officer") == notifications.ReminderPlan("overdue_30", ("overdue_7",))


def test_an_extension_moves_the_series_to_the_new_date():
    extended = DUE + timedelta(days=21)
    assert reminder_plan(extended, DUE).current == "due_in_30"
    assert reminder_plan(extended, extended - timedelta(days=7)).current == "due_in_7"


# --- a real SMTP server -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler keeping every message; `fail_with` makes it refuse DATA."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.fail_with: str | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.fail_with:
            return self.fail_with
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def ledger_ids(self) -> list[int]:
        return [int(m["X-Notification-Id"]) for m in self.messages]


@pytest.fixture
def smtp():
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def app_config(app_config, smtp):
    return type("SmtpConfig", (app_config,), {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port})


# --- the world: a grantee organization with a certifier, an editor and an assigned officer -------

def make_report(due: date = DUE, *, org=None, officer=None, title: str = "Youth services") -> Report:
    """One not-started report of a new grant, due on `due`."""
    org = org or OrganizationFactory()
    officer = officer or UserFactory(role="program_officer")
    grant = GrantFactory(organization=org, officer=officer, title=title)
    start = date(due.year, due.month, 1) - timedelta(days=120)
    report = Report(grant=grant, fiscal_year=2026, half="H1", report_type="interim", period_start=start,
                    period_end=due - timedelta(days=30), due_date=due, effective_due_date=due,
                    deadline_at=deadline_instant(due), status="not_started", measure_set=program().measure_sets[-1])
    db.session.add(report)
    db.session.flush()
    return report


@pytest.fixture
def world(app):
    org = OrganizationFactory(legal_name="Harbor Youth Alliance, Inc.")
    certifier = UserFactory(role="grantee_certifier", organization=org, email="certifier@harbor.test")
    editor = UserFactory(role="grantee_editor", organization=org, email="editor@harbor.test")
    officer = UserFactory(role="program_officer", email="officer@agency.test")
    report = make_report(org=org, officer=officer)
    db.session.commit()
    return {"report": report, "certifier": certifier, "editor": editor, "officer": officer, "org": org}


def at(day: date, hour: int = 6, minute: int = 5):
    """Travel to a time on a day, US Eastern (the scan runs at 06:00 ET)."""
    return time_machine.travel(datetime.combine(day, time(hour, minute), tzinfo=EASTERN), tick=False)


def scan(day: date, **when) -> dict:
    with at(day, **when):
        run = run_job("deadline-scan")
    assert run.outcome == "succeeded", run.error
    return run.counts


def sent_kinds(smtp: Recorder) -> list[tuple[str, str]]:
    rows = {r.id: r for r in db.session.scalars(select(NotificationLedger))}
    return sorted((rows[i].recipient_email, rows[i].kind) for i in smtp.ledger_ids())


def test_every_reminder_goes_once_to_each_recipient_at_its_offset(world, smtp):
    grantees = ["certifier@harbor.test", "editor@harbor.test"]
    for kind, offset in GRANTEE_SERIES:
        before = len(smtp.messages)
        scan(DUE + timedelta(days=offset))
        scan(DUE + timedelta(days=offset), hour=14)  # a second run the same day sends nothing
        new = sent_kinds_since(smtp, before)
        expected = [(email_, kind) for email_ in grantees]
        if kind in ("overdue_7", "overdue_30"):
            expected.append(("officer@agency.test", kind))
        assert new == sorted(expected), kind
        if offset + 1 not in dict(GRANTEE_SERIES).values():
            scan(DUE + timedelta(days=offset + 1))  # a day between milestones: nothing new
            assert len(smtp.messages) == before + len(expected)
    kinds = sent_kinds(smtp)
    assert len(kinds) == len(set(kinds)) == 2 * 8 + 2
    report = world["report"]
    assert {r.status for r in notifications.reminder_log(report)} == {"sent"}
    message = smtp.messages[0]
    assert message["To"] in grantees and "is due in 30 days" in message["Subject"]


def sent_kinds_since(smtp: Recorder, start: int) -> list[tuple[str, str]]:
    rows = {r.id: r for r in db.session.scalars(select(NotificationLedger))}
    return sorted((rows[i].recipient_email, rows[i].kind) for i in smtp.ledger_ids()[start:])


def test_no_reminder_after_submission_and_pending_ones_are_skipped(world, smtp):
    report = world["report"]
    scan(DUE - timedelta(days=7))
    assert len(smtp.messages) == 2
    with at(DUE - timedelta(days=1)):
        ledger.record_due_reminders(DUE - timedelta(days=1))  # written, not yet sent
        db.session.commit()
        report.status = "submitted"
        report.first_submitted_at = datetime.now(UTC)
        db.session.commit()
    for offset in (-1, 0, 1, 7, 30):
        scan(DUE + timedelta(days=offset))
    assert len(smtp.messages) == 2
    pending_then = db.session.scalars(select(NotificationLedger).where(NotificationLedger.kind == "due_in_1")).all()
    assert {(r.status, r.reason) for r in pending_then} == {("skipped", "report submitted")}


def test_excused_report_gets_no_reminders(world, smtp):
    world["report"].status = "excused"
    db.session.commit()
    scan(DUE)
    assert smtp.messages == []


def test_an_extension_starts_a_fresh_series_on_the_new_date(world, smtp):
    report = world["report"]
    scan(DUE - timedelta(days=7))
    with at(DUE - timedelta(days=3)):
        ledger.record_due_reminders(DUE - timedelta(days=1))  # a pending row of the old series
        db.session.commit()
    new_due = DUE + timedelta(days=30)
    report.effective_due_date, report.deadline_at = new_due, deadline_instant(new_due)
    db.session.commit()
    scan(DUE - timedelta(days=1))  # the old series' day-before reminder does not go
    assert len(smtp.messages) == 2
    scan(DUE)  # 30 days before the new date
    assert len(smtp.messages) == 4
    scan(new_due - timedelta(days=7))
    new_series = db.session.scalars(select(NotificationLedger).where(
        NotificationLedger.effective_due_date == new_due, NotificationLedger.status == "sent")).all()
    assert sorted(r.kind for r in new_series) == ["due_in_30", "due_in_30", "due_in_7", "due_in_7"]
    assert len(smtp.messages) == 6
    old_pending = db.session.scalars(select(NotificationLedger).where(NotificationLedger.kind == "due_in_1",
                                                                      NotificationLedger.effective_due_date == DUE)).all()
    assert {r.reason for r in old_pending} == {"due date changed: a new reminder series starts"}


def test_three_day_downtime_sends_one_catch_up_message_not_three(world, smtp):
    scan(DUE - timedelta(days=7))
    # Down on the day before, the due date and the day after; back two days after the due date.
    scan(DUE + timedelta(days=2))
    new = sent_kinds_since(smtp, 2)
    assert new == [("certifier@harbor.test", "overdue_1"), ("editor@harbor.test", "overdue_1")]
    log = {e.kind: (e.status, e.reason) for e in notifications.reminder_log(world["report"])
           if e.recipient_email == "certifier@harbor.test"}
    skipped = ("skipped", notifications.SUPERSEDED)
    assert log == {"due_in_30": skipped, "due_in_14": skipped, "due_in_7": ("sent", ""), "due_in_1": skipped,
                   "due_today": skipped, "overdue_1": ("sent", "")}


def test_missed_seven_day_reminder_still_goes_the_next_run(world, smtp):
    scan(DUE - timedelta(days=5))  # the scheduler was down on the 7-days-before day
    assert sent_kinds(smtp) == [("certifier@harbor.test", "due_in_7"), ("editor@harbor.test", "due_in_7")]


class Killed(BaseException):
    """Stands for the process being killed: nothing after it runs."""


def test_crash_mid_run_then_rerun_sends_no_duplicate_and_misses_none(world, smtp, monkeypatch):
    for _ in range(2):
        make_report(org=world["org"], officer=world["officer"])
    db.session.commit()
    real_send = ledger.build_message
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed()
        return real_send(*args, **kwargs)

    monkeypatch.setattr(ledger, "build_message", dying)
    day = DUE - timedelta(days=14)
    with at(day), pytest.raises(Killed):
        run_job("deadline-scan")
    monkeypatch.setattr(ledger, "build_message", real_send)
    assert len(smtp.messages) == 2
    stuck = db.session.scalars(select(NotificationLedger).where(NotificationLedger.status == "pending")).all()
    assert len(stuck) == 4 and all(r.attempts == 1 for r in stuck)
    scan(day, minute=7)  # claims are fresh: nothing is sent twice in a hurry
    assert len(smtp.messages) == 2
    scan(day, minute=5 + 6)  # claims older than a few minutes are retried
    ids = smtp.ledger_ids()
    assert len(ids) == len(set(ids)) == 6
    assert db.session.scalars(select(NotificationLedger.status).where(NotificationLedger.kind == "due_in_14")
                              .distinct()).all() == ["sent"]


def test_crash_between_sending_and_marking_resends_at_most_that_one(world, smtp, monkeypatch):
    real_mark = ledger._mark

    def dying_after_send(conn, ledger_id, **values):
        if values.get("status") == "sent":
            raise Killed()
        return real_mark(conn, ledger_id, **values)

    monkeypatch.setattr(ledger, "_mark", dying_after_send)
    with at(DUE), pytest.raises(Killed):
        run_job("deadline-scan")
    monkeypatch.setattr(ledger, "_mark", real_mark)
    assert len(smtp.messages) == 1
    scan(DUE, minute=20)
    ids = smtp.ledger_ids()
    assert len(ids) == 3 and len(set(ids)) == 2  # the interrupted one once more, the other once


def test_smtp_failures_back_off_then_give_up_as_failed(world, smtp):
    world["editor"].active = False
    db.session.commit()
    smtp.fail_with = "451 Requested action aborted: local error"
    when = datetime.combine(DUE, time(6, 5), tzinfo=EASTERN)
    delays = []
    for attempt in range(1, ledger.MAX_ATTEMPTS + 1):
        with time_machine.travel(when, tick=False):
            run_job("deadline-scan")
        row = db.session.scalar(select(NotificationLedger).where(NotificationLedger.status != "skipped"))
        db.session.refresh(row)
        assert row.attempts == attempt and "451" in row.last_error
        if attempt < ledger.MAX_ATTEMPTS:
            assert row.status == "pending"
            delays.append(row.next_attempt_at - when)
            when = row.next_attempt_at
    assert delays == [timedelta(minutes=5 * 2 ** i) for i in range(ledger.MAX_ATTEMPTS - 1)]
    assert row.status == "failed" and row.reason == f"gave up after {ledger.MAX_ATTEMPTS} attempts"
    assert smtp.messages == []
    inactive = db.session.scalar(select(NotificationLedger).where(NotificationLedger.recipient_id == world["editor"].id))
    assert (inactive.status, inactive.reason) == ("skipped", "recipient inactive")
    log = notifications.reminder_log(world["report"])
    assert {(e.status, e.recipient_email, e.reason) for e in log if e.kind == "due_today"} == {
        ("failed", "certifier@harbor.test", "gave up after 5 attempts"),
        ("skipped", "editor@harbor.test", "recipient inactive")}


def test_recipients_see_the_reminder_in_the_app(world, smtp):
    scan(DUE - timedelta(days=1))
    messages = db.session.scalars(select(UserMessage).where(UserMessage.user_id == world["certifier"].id)).all()
    assert len(messages) == 1
    assert "due in 1 day" in messages[0].subject and messages[0].link == f"/reports/{world['report'].id}"
    scan(DUE + timedelta(days=7))  # the officer's escalation takes them to the review page
    escalation = db.session.scalars(select(UserMessage).where(UserMessage.user_id == world["officer"].id)).one()
    assert escalation.link == f"/review/reports/{world['report'].id}"


def test_scan_records_exactly_what_the_plan_says_for_every_due_date(app):
    """The SQL of the scan and the pure plan agree, across the whole window and beyond it."""
    today = date(2026, 6, 15)
    org = OrganizationFactory()
    UserFactory(role="grantee_certifier", organization=org)
    officer = UserFactory(role="program_officer")
    grant = GrantFactory(organization=org, officer=officer)
    mset = program().measure_sets[-1]
    reports = {}
    for offset in range(-65, 36):
        due = today + timedelta(days=offset)
        reports[due] = Report(grant=grant, fiscal_year=2026, half="H1", report_type="interim",
                              period_start=date(2000, 1, 1) + timedelta(days=offset + 100), period_end=due,
                              due_date=due, effective_due_date=due, deadline_at=deadline_instant(due),
                              status="draft", measure_set=mset)
        db.session.add(reports[due])
    db.session.commit()
    with at(today):
        ledger.record_due_reminders(today)
    rows = db.session.scalars(select(NotificationLedger)).all()
    for due, report in reports.items():
        for audience, recipient in (("grantee", org.users[0]), ("officer", officer)):
            plan = reminder_plan(due, today, audience)
            got = {r.kind: r.status for r in rows if r.report_id == report.id and r.recipient_id == recipient.id}
            expected = {k: "skipped" for k in plan.superseded} | ({plan.current: "pending"} if plan.current else {})
            assert got == expected, (due, audience)


def test_marks_commit_without_flush_wait_only_while_marking(world, smtp, monkeypatch):
    """On PostgreSQL the marking connection has synchronous_commit off while it marks, and gives
    it back reset; on SQLite nothing changes (its WAL commits never wait for an fsync anyway)."""
    seen = []
    real_mark = ledger._mark

    marking = set()

    def mark_and_look(conn, ledger_id, **values):
        if conn.dialect.name == "postgresql":
            seen.append(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one())
            marking.add(id(conn.connection.dbapi_connection))
        return real_mark(conn, ledger_id, **values)

    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:  # the server's default (scripts/pg.sh keeps it), so "off" below is the ledger's doing
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
    monkeypatch.setattr(ledger, "_mark", mark_and_look)
    scan(DUE - timedelta(days=14))
    assert len(smtp.messages) == 2
    if postgresql:
        assert seen == ["off", "off"]
        db.session.close()
        pooled = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]  # the marking one among them
        try:
            assert marking <= {id(c.connection.dbapi_connection) for c in pooled}  # the marking one is back
            assert [c.exec_driver_sql("SHOW synchronous_commit").scalar_one() for c in pooled] == ["on"] * len(pooled)
        finally:
            for conn in pooled:
                conn.close()


def test_officer_sees_every_reminder_of_the_report_on_the_review_page(world, smtp, app):
    from tests.conftest import login
    from tests.factories import PASSWORD

    world["editor"].active = False
    db.session.commit()
    scan(DUE - timedelta(days=7))
    officer = login(app.test_client(), world["officer"].email, PASSWORD)
    page = officer.get(f"/review/reports/{world['report'].id}").get_data(as_text=True)
    log = page[page.index('id="reminder-log-heading"'):]
    assert "7 days before the due date" in log
    assert "certifier@harbor.test" in log and ">Sent<" in log
    assert "editor@harbor.test" in log and ">Skipped<" in log and "recipient inactive" in log
    grantee = login(app.test_client(), world["certifier"].email, PASSWORD)
    assert grantee.get(f"/review/reports/{world['report'].id}").status_code == 403  # officers and admins only



def test_no_database_write_lock_is_held_while_a_message_goes(world, smtp, monkeypatch):
    """On SQLite a job's transactions take the write lock when they begin: a message must go out
    with no transaction open, so web requests can save meanwhile (on PostgreSQL nothing locks)."""
    real_build = ledger.build_message
    writes = []

    def build_and_try_a_write(*args, **kwargs):
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "sqlite":
                cursor.execute("PRAGMA busy_timeout=0")
                cursor.execute("BEGIN IMMEDIATE")  # fails at once if another connection holds the lock
            writes.append("ok")
        finally:
            raw.rollback()
            raw.close()
        return real_build(*args, **kwargs)

    monkeypatch.setattr(ledger, "build_message", build_and_try_a_write)
    scan(DUE - timedelta(days=14))
    assert writes == ["ok", "ok"] and len(smtp.messages) == 2
