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
    """deadline-scan twice over a fresh benchmark dataset, on SQLite and on PostgreSQL."""
    results = [("SQLite (WAL)", timed_deadline_scans(None))]
    with empty_pg_database("bench_deadline_scan") as pg_url:
        if pg_url:
            results.append(("PostgreSQL", timed_deadline_scans(pg_url)))

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "## Deadline scan (`deadline-scan` run twice)", "",
        f"`schedules.jobs.benchmark_deadline_scan`: a fresh `demo seed --grants {GRANTS} --years {YEARS}` in an empty "
        "database per backend, then the job twice through `run_job` (lock, job-run row) the same day. Mail goes to a "
        "temporary outbox (.eml files), so delivering is rendering, writing and marking each message, not SMTP. "
        f"Targets: each run under {SCAN_TARGET_S:g} s; the second run sends nothing.", "",
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
    if len(results) == 1:
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
