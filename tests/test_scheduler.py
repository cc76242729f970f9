"""The job lock, job runs, the scheduler's job store and catch-up, and two schedulers racing."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import JobLock, JobRun, NotificationLedger
from grants.periods import eastern_today
from schedules import jobs, lock, scheduler
from schedules.jobs import run_job
from tests.factories import OrganizationFactory, UserFactory
from tests.test_reminders import make_report

REPO = Path(__file__).resolve().parent.parent


def test_lock_is_exclusive_until_released(app):
    lease = lock.acquire("deadline-scan", "scheduler-a")
    assert lease is not None
    assert lock.acquire("deadline-scan", "scheduler-b") is None  # first use raced: the row exists
    lease.release()
    assert lock.acquire("deadline-scan", "scheduler-b") is not None


def test_an_expired_lease_is_taken_over_and_the_old_holder_learns_it(app):
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        lease = lock.acquire("deadline-scan", "crashed")
    with time_machine.travel(start + lock.LEASE - timedelta(seconds=1), tick=False):
        assert lock.acquire("deadline-scan", "other") is None
        lease.renew()  # a live holder keeps it
    with time_machine.travel(start + 2 * lock.LEASE, tick=False):
        assert lock.acquire("deadline-scan", "other") is not None
        with pytest.raises(lock.LockLost):
            lease.renew()


def test_run_job_records_outcome_and_counts(app):
    run = run_job("open-periods")
    assert (run.outcome, run.trigger) == ("succeeded", "cli")
    assert run.finished_at >= run.started_at and run.counts == {"opened": 0, "realigned": 0, "outside_performance": 0}
    assert db.session.get(JobLock, "open-periods").holder == ""  # released


def test_run_job_while_locked_is_recorded_as_already_running(app):
    lock.acquire("deadline-scan", "host:123:abc")
    run = run_job("deadline-scan")
    assert run.outcome == "skipped" and "Already running" in run.error and "host:123:abc" in run.error


def test_a_failing_job_is_recorded_with_its_error_and_releases_the_lock(app, monkeypatch):
    def broken(lease):
        raise RuntimeError("the database is on fire")

    monkeypatch.setitem(jobs.JOBS, "open-periods", jobs.Job("open-periods", broken, "", "", lambda tz: None))
    run = run_job("open-periods")
    assert run.outcome == "failed" and "the database is on fire" in run.error
    assert lock.acquire("open-periods") is not None


def test_run_once_command_runs_the_job(app):
    result = app.test_cli_runner().invoke(args=["schedules", "run-once", "send-pending"])
    assert result.exit_code == 0, result.output
    assert "send-pending: succeeded" in result.output
    assert db.session.scalar(select(JobRun.trigger).where(JobRun.job == "send-pending")) == "cli"


def _start(app, **kwargs) -> BackgroundScheduler:
    sched = scheduler.build_scheduler(app, BackgroundScheduler)
    sched.start(**kwargs)
    return sched


def test_scheduler_stores_every_job_with_catch_up_defaults(app):
    sched = _start(app, paused=True)
    try:
        stored = {job.id: job for job in sched.get_jobs()}
        assert set(stored) == set(jobs.JOBS)
        assert all(j.coalesce and j.misfire_grace_time == 86400 for j in stored.values())
        scan = stored["deadline-scan"]
        assert (scan.next_run_time.hour, scan.next_run_time.minute) == (6, 0)
        assert str(scan.next_run_time.tzinfo) == "America/New_York"
    finally:
        sched.shutdown(wait=False)
    assert set(scheduler.stored_next_run_times()) == set(jobs.JOBS)


def test_after_a_three_day_downtime_each_job_runs_once_not_once_per_missed_day(app):
    jobs.bind_app(app)
    _start(app, paused=True).shutdown(wait=False)
    # The process died three days ago: its job store still says when deadline-scan was due.
    store = SQLAlchemyJobStore(engine=db.engine, tablename=scheduler.JOB_TABLE)
    store.start(BackgroundScheduler(timezone=scheduler.timezone(app)), "default")
    job = store.lookup_job("deadline-scan")
    job._modify(next_run_time=datetime.now(UTC) - timedelta(days=3))
    store.update_job(job)
    assert scheduler.stored_next_run_times()["deadline-scan"] < datetime.now(UTC)

    done = threading.Event()
    sched = scheduler.build_scheduler(app, BackgroundScheduler)  # the restart keeps the missed time
    sched.add_listener(lambda event: done.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    sched.start()
    try:
        assert done.wait(20), "the missed run did not happen"
    finally:
        sched.shutdown(wait=True)
        jobs.bind_app(None)
    db.session.expire_all()
    runs = db.session.scalars(select(JobRun).where(JobRun.job == "deadline-scan")).all()
    assert [(r.trigger, r.outcome) for r in runs] == [("schedule", "succeeded")]
    assert scheduler.stored_next_run_times()["deadline-scan"] > datetime.now(UTC)


def test_two_scheduler_processes_racing_send_each_reminder_once(app, db_url, tmp_path):
    """Two `run-once deadline-scan` processes at once, on the test database: no duplicate mail."""
    today = eastern_today()
    org = OrganizationFactory()
    UserFactory(role="grantee_certifier", organization=org)
    UserFactory(role="grantee_editor", organization=org)
    officer = UserFactory(role="program_officer")
    for days in (7, 14, 1, 0, 3):
        make_report(today + timedelta(days=days), org=org, officer=officer)
    db.session.commit()
    outbox = tmp_path / "race-outbox"
    env = {**os.environ, "DATABASE_URL": db_url, "OUTBOX_DIR": str(outbox), "INSTANCE_PATH": str(tmp_path),
           "SMTP_HOST": "", "APP_ENV": "development"}
    env.pop("TEST_DATABASE_URL", None)
    command = [str(REPO / ".venv/bin/flask"), "--app", "wsgi", "schedules", "run-once", "deadline-scan"]
    if not Path(command[0]).exists():
        command = [sys.executable, "-m", "flask", *command[1:]]
    procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n=====\n".join(outputs)
    db.session.expire_all()
    sent = db.session.scalar(select(func.count()).select_from(NotificationLedger).where(NotificationLedger.status == "sent"))
    assert sent == 10
    assert len(list(outbox.glob("*.eml"))) == 10
    runs = db.session.scalars(select(JobRun.outcome).where(JobRun.job == "deadline-scan")).all()
    assert sorted(runs) in (["skipped", "succeeded"], ["succeeded", "succeeded"])


def test_next_run_times_are_computed_before_the_scheduler_ever_ran(app):
    overview = {item["job"].name: item for item in scheduler.job_overview(app)}
    assert overview["deadline-scan"]["next_run_source"].startswith("schedule")
    assert overview["deadline-scan"]["next_run"].date() >= date.today() - timedelta(days=1)
