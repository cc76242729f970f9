"""Admin: scheduled jobs, their recent runs and next run times, and "Run now"."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for

from grants.security import roles_required
from grants.web import register_nav
from schedules.jobs import JOBS, latest_runs, recent_runs, run_job
from schedules.scheduler import job_overview

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    register_nav("Jobs", "jobs.job_list", ("admin",))


@bp.route("")
@roles_required("admin")
def job_list():
    runs = recent_runs(request.args.get("page", 1, type=int))
    return render_template("jobs/list.html", overview=job_overview(current_app), runs=runs, last=latest_runs())


@bp.route("/<name>/run", methods=["POST"])
@roles_required("admin")
def job_run(name: str):
    """Run the job inline, under the same lock as the scheduler's runs."""
    if name not in JOBS:
        abort(404)
    run = run_job(name, trigger="manual")
    if run.outcome == "succeeded":
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        flash(f"{name} finished: {counts or 'nothing to do'}.", "success")
    elif run.outcome == "skipped":
        flash(f"{name} did not run: {run.error}", "warning")
    else:
        flash(f"{name} failed; the error is in the run list.", "error")
    return redirect(url_for("jobs.job_list"))
