"""`flask --app wsgi schedules run` (the scheduler process) and `schedules run-once JOB`."""
from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from schedules.jobs import JOBS, run_job

schedules_cli = AppGroup("schedules", help="The scheduler process and its jobs.")


@schedules_cli.command("run")
def run_command() -> None:
    """Run the scheduler (blocks; Ctrl-C stops it)."""
    from schedules.scheduler import run_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    click.echo(f"Scheduler running jobs: {', '.join(JOBS)}. Ctrl-C stops it.")
    run_scheduler(current_app._get_current_object())


@schedules_cli.command("run-once")
@click.argument("job", type=click.Choice(sorted(JOBS)))
def run_once_command(job: str) -> None:
    """Run one job now, under its lock (for cron or tests)."""
    run = run_job(job, trigger="cli")
    counts = ", ".join(f"{k}={v}" for k, v in sorted((run.counts or {}).items()))
    click.echo(f"{job}: {run.outcome}" + (f" ({counts})" if counts else "") + (f" {run.error}" if run.outcome == "skipped" else ""))
    if run.outcome == "failed":
        click.echo(run.error, err=True)
        sys.exit(1)


COMMANDS = (schedules_cli,)
