"""Operations benchmarks for `make bench`: the deadline scan and the load and fault run.

Both run on SQLite and, when scripts/bench.sh started a throwaway PostgreSQL cluster (its URL in
BENCH_PG_URL), on PostgreSQL too, each in an empty database of its own created in that cluster.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

GRANTS, YEARS = 2000, 10  # the benchmark dataset (bench/__main__.py)
SCAN_TARGET_S = 1.0
SCAN_REPEATS = 3  # each on a fresh seed: the disk of a shared machine makes single runs vary


@contextmanager
def empty_pg_database(name: str) -> Iterator[str | None]:
    """A new, empty database `name` in the BENCH_PG_URL cluster (its URL), dropped afterwards;
    None when there is no cluster."""
    base = os.environ.get("BENCH_PG_URL")
    if not base:
        yield None
        return
    from sqlalchemy import create_engine, make_url, text

    admin_url = make_url(base)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def execute(sql: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(sql))

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a leftover of an interrupted run
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def timed_deadline_scans(database_url: str | None) -> dict:
    """schedules.jobs.benchmark_deadline_scan, with the delivery step of each run timed apart.

    The job first evaluates and records the reminders (skip_unremindable, record_due_reminders,
    supersede_pending, one commit), then delivers them (schedules.ledger.send_pending: claim,
    render, send, mark sent, in-app copy). The job calls send_pending through the module, so a
    timing wrapper around it, in this process only, splits each run in two without changing the job.
    """
    from schedules import ledger
    from schedules.jobs import benchmark_deadline_scan

    delivery: list[float] = []
    send_pending = ledger.send_pending

    def timed_send_pending(*args, **kwargs):
        started = time.perf_counter()
        try:
            return send_pending(*args, **kwargs)
        finally:
            delivery.append(time.perf_counter() - started)

    ledger.send_pending = timed_send_pending
    try:
        result = benchmark_deadline_scan(GRANTS, YEARS, database_url)
    finally:
        ledger.send_pending = send_pending
    result["first_deliver_s"], result["second_deliver_s"] = delivery
    return result


def bench_deadline_scan(ctx) -> str:  # noqa: ARG001 - each backend gets a freshly seeded database
    """deadline-scan twice over a fresh benchmark dataset, on SQLite and on PostgreSQL, SCAN_REPEATS times."""
    results = [("SQLite (WAL)", timed_deadline_scans(None)) for _ in range(SCAN_REPEATS)]
    for _ in range(SCAN_REPEATS):
        with empty_pg_database("bench_deadline_scan") as pg_url:
            if not pg_url:
                break
            results.append(("PostgreSQL", timed_deadline_scans(pg_url)))

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "## Deadline scan (`deadline-scan` run twice)", "",
        f"`schedules.jobs.benchmark_deadline_scan`, {SCAN_REPEATS} times per backend: a fresh `demo seed --grants "
        f"{GRANTS} --years {YEARS}` in an empty database (its writes synced to disk before timing), then the job twice "
        "through `run_job` (lock, job-run row) the same day. Mail goes to a temporary outbox (.eml files on disk), so "
        "delivering is rendering, writing and marking each message, not SMTP. PostgreSQL runs with its default "
        "durability (fsync and synchronous_commit on); the ledger's per-message marks alone commit without waiting "
        f"for the WAL flush (schedules/ledger.py says why). Targets: every run under {SCAN_TARGET_S:g} s; the second "
        "run sends nothing.", "",
        "| backend | seed s | first run s | ledger rows recorded | sent | second run s | recorded | sent | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results:
        ok = r["first_s"] < SCAN_TARGET_S and r["second_s"] < SCAN_TARGET_S and r["second_sent"] == 0
        lines.append(f"| {name} | {r['seed_s']:.1f} | {r['first_s']:.3f} | {r['first_recorded']:,} | {r['first_sent']:,} | "
                     f"{r['second_s']:.3f} | {r['second_recorded']:,} | {r['second_sent']:,} | {verdict(ok)} |")
    lines += [
        "", "Where the first run's time goes: delivering is `schedules.ledger.send_pending`, timed by a wrapper in the "
        "benchmark process; evaluating and recording is the rest of the run (the three ledger statements and their "
        "commit, plus the lock and job-run bookkeeping, a few ms).", "",
        "| backend | run | evaluate + record s | deliver s | messages sent | deliver ms per message |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results:
        for run in ("first", "second"):
            deliver, sent = r[f"{run}_deliver_s"], r[f"{run}_sent"]
            per = f"{deliver * 1000 / sent:.2f}" if sent else "-"
            lines.append(f"| {name} | {run} | {r[f'{run}_s'] - deliver:.3f} | {deliver:.3f} | {sent:,} | {per} |")
    if not any(name == "PostgreSQL" for name, _ in results):
        lines += ["", "PostgreSQL: not run (no BENCH_PG_URL; `make bench` starts a throwaway cluster when PostgreSQL "
                      "is installed)."]
    return "\n".join(lines) + "\n"


def bench_load(ctx) -> str:  # noqa: ARG001 - bench/load.py seeds its own databases
    """bench/load.py: 50 grantees saving drafts for 60 s, latency at 8 users, a worker and a DB kill."""
    from bench import load

    with empty_pg_database("bench_load") as pg_url:
        section = load.run(pg_url, seconds=60)
    if not pg_url:
        section += "\nPostgreSQL: not run (no BENCH_PG_URL).\n"
    return section


def bench_portfolio(ctx) -> str:
    """Issue 3: the officer portfolio on the benchmark dataset: SQL statements per page (counted with
    SQLAlchemy's cursor events) and response time, in-process through the real sign-in form."""
    import re
    import statistics

    from sqlalchemy import event, func, select

    from grants.extensions import db
    from grants.models import Grant, User

    app = ctx.app()
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
        assigned = db.session.scalar(select(func.count()).select_from(Grant).where(Grant.officer_id == officer.id))
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        client.post("/login", data={"csrf_token": token.group(1) if token else "", "email": "officer@demo.test",
                                    "password": "demo-pass-2026"})
        rows = []
        for label, path in (("first page", "/portfolio"), ("page 5", "/portfolio?page=5"),
                            ("all grants of my programs", "/portfolio?scope=all"),
                            ("overdue, by days overdue", "/portfolio?status=overdue&sort=overdue"),
                            ("search", "/portfolio?q=harbor")):
            statements = []

            def count(*args, _seen=statements, **kwargs):
                _seen.append(1)

            event.listen(db.engine, "before_cursor_execute", count)
            response = client.get(path)
            event.remove(db.engine, "before_cursor_execute", count)
            assert response.status_code == 200, (path, response.status_code)
            times = []
            for _ in range(15):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append(f"| {label} | `{path}` | {len(statements)} | {statistics.median(times):.0f} | "
                        f"{times[int(len(times) * 0.95) - 1]:.0f} |")
    return "\n".join([
        "## Officer portfolio (issue 3)", "",
        f"officer@demo.test is assigned {assigned:,} grants of the benchmark dataset. Each page measured "
        "in-process with Flask's test client after signing in through the form: SQL statements for one "
        "request (SQLAlchemy cursor events, sign-in session lookup included), then 15 timed requests.", "",
        "| page | path | SQL statements | median ms | p95 ms |", "|---|---|---|---|---|", *rows, "",
        "The statement count is the same for every page and filter, whatever the number of grants "
        "(`tests/test_portfolio.py` asserts it with 1 and 70 grants).", ""])
