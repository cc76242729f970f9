"""Scheduled jobs: plain functions that call services, run under the job lock with a JobRun row.

Each job is also a CLI command (`flask --app wsgi schedules run-once JOB`) and can be run from
the admin page ("Run now"): all three go through `run_job`, which takes the job's database lock
(schedules.lock), records the run (start, end, outcome, counts) and owns the transaction. The
scheduler process calls `scheduled_job`, which pushes an app context first.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from tempfile import TemporaryDirectory

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app, g
from sqlalchemy import func, select

from grants.extensions import db, sqlite_write_intent
from grants.formatting import fmt_date
from grants.mail import Attachment, build_message, open_mailer
from grants.models import JobRun, User, UserMessage, utcnow
from grants.periods import eastern_today
from grants.services import notifications
from grants.services.open_periods import open_reporting_periods
from reporting import workbooks
from reporting.rollup import RollupParams, default_fiscal_year
from reporting.workbooks.rollup import generated_filename
from schedules import ledger, lock

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def deadline_scan(lease: lock.Lease) -> dict[str, int]:
    """Reminders and escalations for every report (DOMAIN.md), then send what is pending."""
    today = eastern_today()
    counts = {"skipped": ledger.skip_unremindable()}
    counts["recorded"] = ledger.record_due_reminders(today)
    counts["superseded"] = ledger.supersede_pending()
    db.session.commit()  # the ledger rows exist before anything is sent
    counts.update(ledger.send_pending(lease))
    return counts


def send_pending(lease: lock.Lease) -> dict[str, int]:
    """Retries (after SMTP failures or a crash) between the daily scans."""
    counts = {"skipped": ledger.skip_unremindable(), "superseded": ledger.supersede_pending()}
    db.session.commit()
    counts.update(ledger.send_pending(lease))
    return counts


def open_periods(lease: lock.Lease) -> dict[str, int]:  # noqa: ARG001 - one short transaction
    return open_reporting_periods(eastern_today())


def _delivered(user: User, subject: str) -> bool:
    """True when the user already has the in-app copy of a message with this subject."""
    return db.session.scalar(select(UserMessage.id).where(UserMessage.user_id == user.id,
                                                          UserMessage.subject == subject[:300]).limit(1)) is not None


def _send_digests(lease: lock.Lease, recipients, make, attachments: tuple[Attachment, ...] = ()) -> dict[str, int]:
    """Send one digest per recipient; a digest already delivered (same subject) is not sent again."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    with open_mailer() as mailer:
        for user in recipients:
            rendered = make(user)
            if rendered is None or not user.active or _delivered(user, rendered.subject):
                counts["skipped"] += 1
                continue
            db.session.commit()  # no transaction open while the mail goes (on SQLite it holds the write lock)
            try:
                mailer.send(build_message(user.email, rendered.subject, rendered.text, rendered.html,
                                          attachments=attachments))
                counts["sent"] += 1
            except Exception:  # noqa: BLE001 - one bad address must not stop the others' digests
                log.exception("digest to %s failed", user.email)
                counts["failed"] += 1
            notifications.add_user_message(user.id, rendered)
            db.session.commit()
            lease.keep_alive()
    return counts


def officer_digest(lease: lock.Lease) -> dict[str, int]:
    """Weekly: each officer's reports due soon, overdue and awaiting their review."""
    today = eastern_today()
    week_of = today - timedelta(days=today.weekday())
    digests = notifications.officer_digests(today)
    link = notifications.app_path("reviews.portfolio", "/")

    def make(officer: User):
        lists = digests.get(officer.id)
        if not lists or not any(lists.values()):
            return None
        sizes = {name: len(entries) for name, entries in lists.items()}
        summary = (f"{sizes['due_soon']} due soon, {sizes['overdue']} overdue, "
                   f"{sizes['awaiting_review']} awaiting your review.")
        return notifications.render_mail(
            "officer_digest", f"Your reports for the week of {fmt_date(week_of)}", link, summary,
            officer=officer, lists=lists, sizes=sizes, limit=notifications.DIGEST_LIST_LIMIT, today=today,
            footer="You receive this weekly because you are a program officer with grants assigned to you.")

    officers = db.session.scalars(select(User).where(User.role == "program_officer").order_by(User.id)).all()
    return _send_digests(lease, officers, make)


def leadership_digest(lease: lock.Lease) -> dict[str, int]:
    """Monthly: completeness and on-time rates by program, and reports 30+ days overdue."""
    today = eastern_today()
    digest = notifications.leadership_digest(today)
    subject = f"Reporting completeness for {today:%B} {today.year}"
    summary = f"{digest['long_overdue_count']} reports are 30 or more days overdue."
    link = notifications.app_path("rollups.dashboard", "/")
    rendered = notifications.render_mail(
        "leadership_digest", subject, link, summary, digest=digest, today=today,
        limit=notifications.DIGEST_LIST_LIMIT * 2,
        footer="You receive this monthly because you have a leadership account.")
    leaders = db.session.scalars(select(User).where(User.role == "leadership").order_by(User.id)).all()
    return _send_digests(lease, leaders, lambda _user: rendered)


def rollup_workbook(lease: lock.Lease) -> dict[str, int]:
    """Monthly: the roll-up workbook (the dashboard's default fiscal year, all programs) by email.

    The same builder as the dashboard download (reporting.workbooks.build) writes it, so the
    attachment is the file the in-app message's link downloads that day. It is built only when
    some leader has not had this month's yet: a rerun in the same month sends nothing.
    """
    today = eastern_today()
    subject = f"Monthly roll-up workbook, {today:%B} {today.year}"
    leaders = db.session.scalars(select(User).where(User.role == "leadership").order_by(User.id)).all()
    if not any(user.active and not _delivered(user, subject) for user in leaders):
        return {"sent": 0, "skipped": len(leaders), "failed": 0}
    db.session.commit()  # the build reads on connections of its own
    params = RollupParams(fiscal_year=default_fiscal_year(today), today=today)
    with tempfile.TemporaryFile() as stream:
        workbooks.build("rollup", params, stream)
        stream.seek(0)
        attachment = Attachment(generated_filename(params), XLSX, stream.read())
    rendered = notifications.render_mail(
        "rollup_workbook", subject, notifications.app_path("rollups.rollup_download", "/dashboard/export.xlsx",
                                                             **params.query_args()),
        f"The roll-up workbook for FY{params.fiscal_year} (all programs) was emailed to you as an attachment; "
        "the link downloads it again, with the figures of the day you open it.",
        filename=attachment.filename, filters=params.describe(), today=today,
        threshold=current_app.config["SUPPRESSION_THRESHOLD"],
        footer="You receive this monthly because you have a leadership account.")
    counts = _send_digests(lease, leaders, lambda _user: rendered, (attachment,))
    return {**counts, "fiscal_year": params.fiscal_year, "workbook_bytes": len(attachment.data)}


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[lock.Lease], dict[str, int]]
    description: str
    schedule: str
    trigger: Callable[[object], object]


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("open-periods", open_periods, "Open reports for started periods; realign after end-date changes",
        "Daily at 5:30 a.m. Eastern", lambda tz: CronTrigger(hour=5, minute=30, timezone=tz)),
    Job("deadline-scan", deadline_scan, "Deadline reminders and escalations",
        "Daily at 6:00 a.m. Eastern", lambda tz: CronTrigger(hour=6, minute=0, timezone=tz)),
    Job("send-pending", send_pending, "Retry reminders that failed or were interrupted",
        "Every 10 minutes", lambda tz: IntervalTrigger(minutes=10, timezone=tz)),
    Job("officer-digest", officer_digest, "Officers' weekly digest",
        "Mondays at 7:00 a.m. Eastern", lambda tz: CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=tz)),
    Job("leadership-digest", leadership_digest, "Leadership's monthly digest",
        "1st of the month at 7:00 a.m. Eastern", lambda tz: CronTrigger(day=1, hour=7, minute=0, timezone=tz)),
    Job("rollup-workbook", rollup_workbook, "Leadership's monthly roll-up workbook by email",
        "1st of the month at 7:30 a.m. Eastern", lambda tz: CronTrigger(day=1, hour=7, minute=30, timezone=tz)),
)}


def latest_runs() -> dict[str, JobRun]:
    """Each job's most recent run, by job name (one query, however many jobs and runs)."""
    newest = (JobRun.started_at.desc(), JobRun.id.desc())
    ranked = select(JobRun.id, func.row_number().over(partition_by=JobRun.job, order_by=newest).label("n")).subquery()
    runs = db.session.scalars(select(JobRun).join(ranked, ranked.c.id == JobRun.id).where(ranked.c.n == 1))
    return {run.job: run for run in runs}


def recent_runs(page: int, per_page: int = 50):
    """One page of every job's runs, newest first."""
    return db.paginate(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()), page=page,
                       per_page=per_page, error_out=False)


def run_job(name: str, trigger: str = "cli") -> JobRun:
    """Run a job now under its lock and record the run; needs an app context.

    When another process holds the lock the run is recorded as skipped ("already running").
    Jobs read then write, so on SQLite every transaction of the run takes the write lock when it
    begins (sqlite_write_intent): it then waits its turn instead of failing with 'database is
    locked' when another process wrote in between.
    """
    token = sqlite_write_intent.set(True)
    try:
        return _run_locked(JOBS[name], trigger)
    finally:
        sqlite_write_intent.reset(token)


def _run_locked(job: Job, trigger: str) -> JobRun:
    name = job.name
    holder = lock.new_holder()
    run = JobRun(job=name, holder=holder, trigger=trigger, outcome="running", counts={})
    db.session.add(run)
    db.session.commit()
    lease = lock.acquire(name, holder)
    if lease is None:
        held = lock.current_holder(name)
        since = f" since {held.acquired_at:%Y-%m-%d %H:%M:%S} UTC by {held.holder}" if held else ""
        run.outcome, run.error, run.finished_at = "skipped", f"Already running{since}.", utcnow()
        db.session.commit()
        return run
    g.audit_source = f"job:{name}"
    try:
        counts = job.run(lease)
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        run.outcome, run.error, run.finished_at = "failed", traceback.format_exc()[-4000:], utcnow()
        db.session.commit()
        lease.release()
        if not isinstance(exc, Exception):
            raise
        log.error("job %s failed: %s", name, exc)
        return run
    run.outcome, run.counts, run.finished_at = "succeeded", counts, utcnow()
    db.session.commit()
    lease.release()
    return run


_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """The app the scheduler's jobs run in (set by `schedules run`)."""
    global _app
    _app = app


def scheduled_job(name: str) -> None:
    """APScheduler's entry point (stored in the job store by reference): app context, then run."""
    from grants import create_app

    app = _app or create_app()
    with app.app_context():
        run_job(name, trigger="schedule")


def benchmark_deadline_scan(grants: int = 2000, years: int = 10, database_url: str | None = None,
                            today: date | None = None) -> dict[str, float | int]:
    """Time deadline-scan twice over the benchmark dataset (`demo seed --grants 2000 --years 10`).

    A temporary SQLite database (or `database_url`, which must be empty) and a temporary outbox.
    The second run must send nothing. Used by bench/deadline_scan.py.
    """
    from flask_migrate import upgrade

    from config import Config
    from grants import create_app
    from grants.demo import analyze_after_bulk_load, seed

    with TemporaryDirectory(prefix="bench-deadline-") as tmp:
        url = database_url or f"sqlite:///{tmp}/bench.sqlite"
        config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url, "OUTBOX_DIR": f"{tmp}/outbox",
                                                 "SMTP_HOST": ""})
        app = create_app(config)
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            seed(grants, years, today)
            db.session.commit()
            analyze_after_bulk_load()  # as `demo seed` does
            result: dict[str, float | int] = {"seed_s": round(time.perf_counter() - started, 2)}
            os.sync()  # the seed's writes reach the disk before the clock starts, not during the scan
            for label in ("first", "second"):
                started = time.perf_counter()
                run = run_job("deadline-scan", trigger="bench")
                result[f"{label}_s"] = round(time.perf_counter() - started, 3)
                result[f"{label}_sent"] = run.counts.get("sent", 0)
                result[f"{label}_recorded"] = run.counts.get("recorded", 0)
                if run.outcome != "succeeded":
                    raise RuntimeError(run.error)
            db.session.remove()
            db.engine.dispose()
    return result
