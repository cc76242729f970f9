"""Load and fault benchmark (issue 7): gunicorn with 2 workers plus the scheduler, on SQLite (WAL)
and on PostgreSQL.

1. 50 simulated grantees sign in and save drafts (and some submit) for 60 seconds, through the
   real pages with CSRF tokens. We count 5xx answers and "database is locked" anywhere (answers and
   server logs), then check that every acknowledged save (a 302 answer) is in the database.
2. 8 concurrent users read the officer portfolio and the leadership dashboard; p95 latency, and
   throughput against /healthz measured in the same run.
3. Faults during a save load: a gunicorn worker is killed (SIGKILL) mid-run, and on PostgreSQL
   every application connection is terminated by the server; afterwards no acknowledged write may
   be missing.

Traffic goes only to 127.0.0.1. Every loop is bounded in time and count.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PASSWORD = "demo-pass-2026"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
LOCK = re.compile(r'name="lock_version" type="hidden" value="(\d*)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A minimal cookie-keeping HTTP client that does not follow redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.location = ""  # the Location header of the last redirect
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), self._NoRedirect)

    def request(self, path: str, data: dict | None = None, timeout: float = 30) -> tuple[int, str, float]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=body, timeout=timeout) as response:
                text = response.read().decode("utf-8", "replace")
                return response.status, text, time.perf_counter() - started
        except urllib.error.HTTPError as exc:
            self.location = exc.headers.get("Location", "")
            return exc.code, exc.read().decode("utf-8", "replace"), time.perf_counter() - started

    def sign_in(self, email: str) -> None:
        status, page, _ = self.request("/login")
        token = _csrf(page)
        status, _, _ = self.request("/login", {"csrf_token": token, "email": email, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"sign-in failed for {email}: {status}")


def _csrf(page: str) -> str:
    match = CSRF.search(page)
    return (match.group(1) or match.group(2)) if match else ""


@dataclass
class Server:
    workdir: Path
    env: dict
    port: int
    procs: list = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.workdir / "gunicorn.log", "w")
        self.procs.append(subprocess.Popen(
            [str(VENV / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "--timeout", "60",
             "--graceful-timeout", "5", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        sched_log = open(self.workdir / "scheduler.log", "w")
        self.procs.append(subprocess.Popen([str(VENV / "flask"), "--app", "wsgi", "schedules", "run"], cwd=ROOT,
                                           env=self.env, stdout=sched_log, stderr=subprocess.STDOUT))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start; see " + str(self.workdir / "gunicorn.log"))

    def worker_pids(self) -> list[int]:
        master = self.procs[0].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def logs(self) -> str:
        return "".join((self.workdir / name).read_text(errors="replace") for name in ("gunicorn.log", "scheduler.log"))


def prepare_database(env: dict, grants: int) -> None:
    subprocess.run([str(VENV / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([str(VENV / "flask"), "--app", "wsgi", "demo", "seed", "--grants", str(grants)], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def grantee_plan(env: dict, count: int) -> list[dict]:
    """For each simulated grantee: its certifier account and one editable report with valid values."""
    code = f"""
import json, random
from decimal import Decimal
from sqlalchemy import select
from grants import create_app
from grants.extensions import db
from grants.models import Grant, Report, User
from grants.demo import generate_values
from grants.services.reports import report_specs
from forms.report_form import field_name
app = create_app()
with app.app_context():
    plan, used = [], set()
    users = db.session.scalars(select(User).where(User.role == "grantee_certifier").order_by(User.id)).all()
    for user in users:
        report = db.session.scalars(select(Report).join(Grant).where(Grant.organization_id == user.organization_id,
            Report.status.in_(("not_started", "draft"))).order_by(Report.id)).first()
        if report is None or report.id in used:
            continue
        used.add(report.id)
        specs = report_specs(report)
        variants = []
        for seed in range(6):
            raw = generate_values(specs, 30 + seed, Decimal("900.00"), random.Random(report.id * 10 + seed))
            variants.append({{field_name(k): v for k, v in raw.items()}})
        plan.append({{"email": user.email, "report": report.id, "variants": variants, "final": report.report_type == "final"}})
        if len(plan) >= {count}:
            break
    print(json.dumps(plan))
"""
    return _python_json(env, code)


def stored_values(env: dict, report_ids: list[int]) -> dict[int, dict[str, str]]:
    code = f"""
import json
from sqlalchemy import select
from grants import create_app
from grants.extensions import db
from grants.models import Report, ReportValue
from forms.report_form import field_name
app = create_app()
with app.app_context():
    out = {{}}
    for rid in {report_ids!r}:
        report = db.session.get(Report, rid)
        vid = report.current_version_id
        rows = db.session.scalars(select(ReportValue).where(ReportValue.version_id == vid)).all() if vid else []
        out[rid] = {{field_name(r.measure_code + ("." + r.dimension + "." + r.category if r.dimension else "")): r.raw for r in rows}}
    print(json.dumps(out))
"""
    return {int(k): v for k, v in _python_json(env, code).items()}


def _python_json(env: dict, code: str):
    """Run `code` in the venv's Python against the benchmark database; its last line of output is JSON."""
    import json

    out = subprocess.run([str(VENV / "python"), "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"helper script failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class SaveStats:
    requests: int = 0
    saves_acknowledged: int = 0
    submits: int = 0
    server_errors: int = 0
    locked: int = 0
    transport_errors: int = 0
    conflicts: int = 0
    last_ack: dict = field(default_factory=dict)
    # Saves sent after the last acknowledged one whose answer never came (a killed worker or
    # connection): the server may have committed them, so the database may hold one of these.
    unanswered: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def grantee_loop(base: str, plan: dict, stop_at: float, stats: SaveStats, rng: random.Random, submit_rate: float) -> None:
    browser = Browser(base)
    try:
        browser.sign_in(plan["email"])
    except Exception:  # noqa: BLE001 - counted, the loop goes on without this user
        with stats.lock:
            stats.transport_errors += 1
        return
    rid = plan["report"]
    while time.time() < stop_at:
        try:
            status, page, _ = browser.request(f"/reports/{rid}/edit")
            _count(stats, status, page)
            if status != 200:
                time.sleep(0.2)
                continue
            values = dict(rng.choice(plan["variants"]))
            data = {"csrf_token": _csrf(page), "lock_version": (LOCK.search(page) or [None, ""])[1], "action": "save",
                    "narrative_accomplishments": "Load test narrative.", **values}
            for name in set(re.findall(r'name="(explain__[^"]+)"', page)):
                data[name] = "Explained during the load test."
            if plan["final"]:
                data["narrative_cumulative"] = "Cumulative narrative."
            with stats.lock:
                stats.unanswered.setdefault(rid, []).append(values)
            status, body, _ = browser.request(f"/reports/{rid}/edit", data)
            _count(stats, status, body)
            saved = status == 302 and f"/reports/{rid}/edit" in browser.location  # "Draft saved", not "cannot be edited"
            with stats.lock:
                if saved:
                    stats.saves_acknowledged += 1
                    stats.last_ack[rid] = values
                    stats.unanswered[rid] = []
                elif status < 500 and status != 0:
                    stats.unanswered[rid].pop()  # answered without saving: it cannot be in the database
            if saved and rng.random() < submit_rate:
                status, page, _ = browser.request(f"/reports/{rid}/submit")
                if "Certify and submit" in page:
                    lock = (LOCK.search(page) or [None, ""])[1]
                    status, body, _ = browser.request(f"/reports/{rid}/submit", {
                        "csrf_token": _csrf(page), "lock_version": lock, "certifier_name": "Load Tester",
                        "certifier_title": "Director", "certifier_phone": "202-555-0100",
                        "certifier_email": plan["email"], "certify": "y"})
                    _count(stats, status, body)
                    if status == 302:
                        with stats.lock:
                            stats.submits += 1
                        # Reopen for further drafts, as a grantee fixing a typo would.
                        page_status, view, _ = browser.request(f"/reports/{rid}")
                        browser.request(f"/reports/{rid}/unsubmit", {"csrf_token": _csrf(view)})
        except (OSError, urllib.error.URLError):
            with stats.lock:
                stats.transport_errors += 1
            time.sleep(0.1)


def _count(stats: SaveStats, status: int, body: str) -> None:
    with stats.lock:
        stats.requests += 1
        if status >= 500:
            stats.server_errors += 1
        if status == 409:
            stats.conflicts += 1
        if "database is locked" in body:
            stats.locked += 1


def run_saves(server: Server, plans: list[dict], seconds: float, faults: list | None = None,
              submit_rate: float = 0.05) -> SaveStats:
    stats = SaveStats()
    stop_at = time.time() + seconds
    threads = [threading.Thread(target=grantee_loop, args=(server.base, p, stop_at, stats, random.Random(i), submit_rate))
               for i, p in enumerate(plans)]
    for t in threads:
        t.start()
    for at, action in faults or []:
        time.sleep(max(0, at - (seconds - (stop_at - time.time()))))
        action()
    for t in threads:
        t.join(seconds + 60)
    return stats


def verify_acknowledged(env: dict, stats: SaveStats) -> int:
    """Reports whose last acknowledged save is missing from the database: the stored values must be
    that save's, or those of a later save whose answer was lost (it may have been committed)."""
    stored = stored_values(env, list(stats.last_ack))
    missing = 0
    for rid, values in stats.last_ack.items():
        if not any(all(stored[rid].get(k, "") == v for k, v in candidate.items())
                   for candidate in [values, *stats.unanswered.get(rid, [])]):
            missing += 1
    return missing


def latency(server: Server, users: int, seconds: float) -> dict:
    """p95 of the officer portfolio and the leadership dashboard at `users` concurrent users, and
    the throughput ratio against /healthz in the same run."""
    results: dict[str, list[float]] = {"portfolio": [], "dashboard": [], "healthz": []}
    lock = threading.Lock()

    def loop(email: str, path: str, key: str, stop_at: float) -> None:
        browser = Browser(server.base)
        if email:
            browser.sign_in(email)
        browser.request(path)
        while time.time() < stop_at:
            status, _, elapsed = browser.request(path)
            with lock:
                results[key].append(elapsed if status == 200 else float("inf"))

    out = {}
    for key, email, path in (("portfolio", "officer@demo.test", "/portfolio"), ("dashboard", "leader@demo.test", "/dashboard"),
                             ("healthz", "", "/healthz")):
        stop_at = time.time() + seconds
        threads = [threading.Thread(target=loop, args=(email, path, key, stop_at)) for _ in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 30)
        times = sorted(results[key])
        out[key] = {"requests": len(times), "p50_ms": statistics.median(times) * 1000,
                    "p95_ms": times[int(len(times) * 0.95) - 1] * 1000, "per_second": len(times) / seconds}
    for key in ("portfolio", "dashboard"):
        out[key]["throughput_vs_healthz"] = out[key]["per_second"] / out["healthz"]["per_second"]
    return out


def run_backend(name: str, database_url: str | None, workdir: Path, seconds: float = 60) -> dict:
    env = {**os.environ, "INSTANCE_PATH": str(workdir), "SECRET_KEY": "bench-secret", "APP_ENV": "",
           "LOGIN_MAX_FAILURES_PER_IP": "100000"}
    env["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'load.sqlite'}"
    prepare_database(env, grants=150)
    plans = grantee_plan(env, 50)
    server = Server(workdir, env, free_port())
    server.start()
    try:
        saves = run_saves(server, plans, seconds)
        saves_missing = verify_acknowledged(env, saves)
        lat = latency(server, users=8, seconds=15)

        def kill_worker() -> None:
            pids = server.worker_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)

        terminated: list[str] = []

        def kill_connections() -> None:
            out = subprocess.run(
                ["psql", database_url.replace("postgresql+psycopg", "postgresql"), "-qAtc",
                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND pid <> pg_backend_pid()"], capture_output=True, text=True)
            terminated.append(out.stdout.strip() or f"psql failed: {out.stderr.strip()[:200]}")

        faults = [(5, kill_worker)] + ([(10, kill_connections)] if database_url else [])
        fault_stats = run_saves(server, plans, 20, faults=faults, submit_rate=0.0)
        fault_missing = verify_acknowledged(env, fault_stats)
        logs = server.logs()
    finally:
        server.stop()
    kept = ROOT / "bench" / "data" / f"load-{'pg' if database_url else 'sqlite'}-server.log"
    kept.unlink(missing_ok=True)
    if logged_exceptions(logs):  # the whole logs, to read the tracebacks after the workdir is gone
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(logs)
    else:
        kept = None
    return {
        "backend": name, "grantees": len(plans), "seconds": seconds,
        "saves": saves.saves_acknowledged, "submits": saves.submits, "requests": saves.requests,
        "server_errors": saves.server_errors, "conflicts": saves.conflicts, "transport_errors": saves.transport_errors,
        "database_locked": saves.locked + logs.count("database is locked"), "acknowledged_missing": saves_missing,
        "latency": lat,
        "fault": {"saves": fault_stats.saves_acknowledged, "server_errors": fault_stats.server_errors,
                  "transport_errors": fault_stats.transport_errors, "acknowledged_missing": fault_missing,
                  "faults": ["killed a gunicorn worker (SIGKILL) at 5 s"] + (
                      [f"terminated every database connection at 10 s ({', '.join(terminated)} connections)"]
                      if database_url else [])},
        "exceptions": logged_exceptions(logs), "kept_logs": kept,
    }


def logged_exceptions(logs: str) -> dict[str, int]:
    """The exception line ending each traceback in the server logs, counted; of a chain of
    exceptions ("The above exception was the direct cause ...") only the last one."""
    found: dict[str, int] = {}
    traceback = r"^Traceback \(most recent call last\):\n(?:[ \t].*\n)*(\S.*)$(?!\n\n(?:The above|During handling))"
    for match in re.finditer(traceback, logs, re.M):
        line = match.group(1)[:160]
        found[line] = found.get(line, 0) + 1
    return found


def markdown(results: list[dict]) -> str:
    lines = ["## Load and faults (issue 7)", "",
             f"{results[0]['grantees']} simulated grantees (one report each) sign in and save drafts through the real "
             f"form for {results[0]['seconds']:g} s, "
             "about 5% of saves followed by certify-and-submit and unsubmit; gunicorn with 2 workers plus the "
             "scheduler process, on 127.0.0.1.", "",
             "| backend | saves acknowledged | submits | requests | 5xx | 'database is locked' | acknowledged saves missing | 409 conflicts |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['backend']} | {r['saves']} | {r['submits']} | {r['requests']} | {r['server_errors']} | "
                     f"{r['database_locked']} | {r['acknowledged_missing']} | {r['conflicts']} |")
    lines += ["", "Latency at 8 concurrent users (15 s per page), with /healthz in the same run:", "",
              "| backend | page | requests | p50 ms | p95 ms | req/s | throughput vs /healthz |", "|---|---|---|---|---|---|---|"]
    for r in results:
        for key in ("portfolio", "dashboard", "healthz"):
            m = r["latency"][key]
            ratio = f"{m['throughput_vs_healthz']:.2f}" if "throughput_vs_healthz" in m else "1.00"
            lines.append(f"| {r['backend']} | {key} | {m['requests']} | {m['p50_ms']:.0f} | {m['p95_ms']:.0f} | "
                         f"{m['per_second']:.1f} | {ratio} |")
    lines += ["", "Faults during a 20 s save load:", "",
              "| backend | faults | saves acknowledged | 5xx | transport errors | acknowledged saves missing |",
              "|---|---|---|---|---|---|"]
    for r in results:
        f = r["fault"]
        lines.append(f"| {r['backend']} | {'; '.join(f['faults'])} | {f['saves']} | {f['server_errors']} | "
                     f"{f['transport_errors']} | {f['acknowledged_missing']} |")
    lines += ["", "Exceptions in the server logs (gunicorn and scheduler, whole run; last line of each traceback):", ""]
    for r in results:
        found = r["exceptions"]
        kept = f" (the server logs are kept in `{r['kept_logs'].relative_to(ROOT)}`)" if r["kept_logs"] else ""
        lines += [f"- {r['backend']}: " + ("none" if not found else "; ".join(
            f"{count} x `{line}`" for line, count in sorted(found.items(), key=lambda item: -item[1]))) + kept]
    return "\n".join(lines) + "\n"


def run(pg_url: str | None = None, seconds: float = 60) -> str:
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        (workdir / "sqlite").mkdir()
        results.append(run_backend("SQLite (WAL)", None, workdir / "sqlite", seconds))
        if pg_url:
            (workdir / "pg").mkdir()
            results.append(run_backend("PostgreSQL", pg_url, workdir / "pg", seconds))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return markdown(results)


if __name__ == "__main__":
    print(run(os.environ.get("BENCH_PG_URL"), float(os.environ.get("BENCH_SECONDS", "60"))))
    sys.exit(0)
