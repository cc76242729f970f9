"""The scheduler process: APScheduler 3 with a persistent job store on the app's database.

`flask --app wsgi schedules run` starts a BlockingScheduler whose jobs live in the
`apscheduler_jobs` table (the migrations leave it alone). Job defaults make a downtime cost
nothing and repeat nothing: coalesce=True runs a job once however many runs were missed, and
misfire_grace_time=86400 still runs it when the missed time is up to a day old. The stored next
run time of each job is kept across restarts (re-adding a job would otherwise move it to the next
future time and lose the catch-up run). Two scheduler processes may run side by side: each job
run takes the database lock (schedules.lock), so the same job never runs twice at once.
"""
from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import inspect, text

from grants.extensions import db
from schedules.jobs import JOBS, bind_app

JOB_TABLE = "apscheduler_jobs"
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": 86400, "max_instances": 1}
ENTRY_POINT = "schedules.jobs:scheduled_job"

log = logging.getLogger(__name__)


def stored_next_run_times(engine=None) -> dict[str, datetime | None]:
    """job id -> next run time as stored in the job store (None: paused); {} before the first start."""
    engine = engine or db.engine
    if not inspect(engine).has_table(JOB_TABLE):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE}")).all()
    return {job_id: datetime.fromtimestamp(ts, UTC) if ts is not None else None for job_id, ts in rows}


def timezone(app: Flask) -> ZoneInfo:
    return ZoneInfo(app.config.get("APP_TIMEZONE") or "America/New_York")


def build_scheduler(app: Flask, scheduler_class=BlockingScheduler):
    """A scheduler with every job of schedules.jobs.JOBS in the database job store."""
    tz = timezone(app)
    with app.app_context():
        engine = db.engine
        stored = stored_next_run_times(engine)
        stale = [job_id for job_id in stored if job_id not in JOBS]
        if stale:
            with engine.begin() as conn:
                for job_id in stale:
                    conn.execute(text(f"DELETE FROM {JOB_TABLE} WHERE id = :id"), {"id": job_id})
    scheduler = scheduler_class(
        # The job store reads then writes in one transaction (the table check then its creation on
        # a first start, a due job then its next run time): on SQLite it takes the write lock when
        # it begins, or a commit by the web workers in between fails it with 'database is locked'.
        jobstores={"default": SQLAlchemyJobStore(engine=engine.execution_options(sqlite_writer=True),
                                                 tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(4)}, job_defaults=JOB_DEFAULTS, timezone=tz,
    )
    for job in JOBS.values():
        keep = {"next_run_time": stored[job.name]} if stored.get(job.name) else {}
        scheduler.add_job(ENTRY_POINT, trigger=job.trigger(tz), args=[job.name], id=job.name,
                          name=job.description, replace_existing=True, **keep)
    return scheduler


def run_scheduler(app: Flask) -> None:
    """Run the scheduler in this process until Ctrl-C or SIGTERM."""
    bind_app(app)
    scheduler = build_scheduler(app)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    log.info("scheduler started with jobs: %s", ", ".join(JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


def job_overview(app: Flask) -> list[dict]:
    """Each job with its schedule and next run time: from the job store, or computed from its
    trigger (and said so) when the scheduler has never stored it."""
    tz = timezone(app)
    stored = stored_next_run_times()
    now = datetime.now(tz)
    overview = []
    for job in JOBS.values():
        if job.name in stored:
            next_run, source = stored[job.name], "job store" if stored[job.name] else "paused"
        else:
            next_run, source = job.trigger(tz).get_next_fire_time(None, now), "schedule (scheduler not started yet)"
        overview.append({"job": job, "next_run": next_run, "next_run_source": source})
    return overview
