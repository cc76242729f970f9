"""`make bench` (`.venv/bin/python -m bench`): performance benchmarks, written to bench/RESULTS.md.

The dataset is `demo seed --grants 2000 --years 10` in a SQLite database under bench/data/
(gitignored), seeded again when missing or seeded on another day (demo data is dated from today).
Each benchmark in BENCHMARKS takes the shared Context and returns a Markdown section; add yours
to the list.

    .venv/bin/python -m bench [--only NAME ...] [--runs N] [--fresh]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "RESULTS.md"
VENV = ROOT / ".venv" / "bin"
GRANTS, YEARS = 2000, 10
sys.path.insert(0, str(ROOT))


@dataclass
class Context:
    """What every benchmark gets: the seeded database and a place for scratch files."""

    database_url: str
    env: dict
    workdir: Path
    runs: int
    dataset: dict = field(default_factory=dict)

    def app(self):
        from config import Config
        from grants import create_app

        return create_app(type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": self.database_url}))


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _timed(fn, runs: int) -> list[tuple[float, float]]:
    """(wall seconds, CPU seconds) of each run: the CPU time of this process (all its threads) and
    of the processes it forked and waited for meanwhile (the export's writer processes)."""
    def cpu() -> float:
        t = os.times()
        return time.process_time() + t.children_user + t.children_system

    times = []
    for _ in range(runs):
        wall, cpu_before = time.perf_counter(), cpu()
        fn()
        times.append((time.perf_counter() - wall, cpu() - cpu_before))
    return times


# --- the benchmarks --------------------------------------------------------------------------------

def bench_rollup_export(ctx: Context) -> str:
    """Roll-up workbook end to end vs bare xlsxwriter writing the same cells, and vs pandas."""
    from bench import bare_xlsxwriter, pandas_way
    from grants.extensions import db
    from reporting import workbooks
    from reporting.rollup import RollupParams, build_rollup
    from reporting.workbooks import writer
    from reporting.workbooks.rollup import build_rollup_workbook

    app = ctx.app()
    fy = ctx.dataset["fiscal_year"]
    params = RollupParams(fiscal_year=fy)
    export_path, bare_path, pandas_path = (str(ctx.workdir / n) for n in ("export.xlsx", "bare.xlsx", "pandas.xlsx"))
    with app.app_context():
        recording = build_rollup_workbook(params, export_path, record=True).recording  # warm-up and the cells
        cells = sum(sum(v is not None for v in cells) for _, _, cells, _ in recording)
        sheets = len({name for name, _, _, _ in recording})
        processes = writer.writer_processes(sum(name == "Detail" for name, *_ in recording) - 1)  # its heading aside
        export_times, one_process_times, bare_times, read_times = [], [], [], []
        for _ in range(ctx.runs):  # interleaved, so all see the same machine load
            export_times += _timed(lambda: workbooks.build("rollup", params, export_path), 1)
            with mock.patch.object(writer, "writer_processes", lambda rows: 1):  # as in a process running threads
                one_process_times += _timed(lambda: workbooks.build("rollup", params, export_path), 1)
            bare_times += _timed(lambda: bare_xlsxwriter.write(recording, bare_path), 1)
            read_times += _timed(lambda: build_rollup(params, detail=True, parallel=True), 1)
        recording.clear()
        shape = pandas_way.detail_sheet(db.engine, fy, params.on, pandas_path)
        pandas_times = _timed(lambda: pandas_way.detail_sheet(db.engine, fy, params.on, pandas_path), ctx.runs)
    def stats(times):
        return _median([w for w, _ in times]), _median([c for _, c in times])

    (export, export_cpu), (bare, bare_cpu), (pandas, pandas_cpu) = stats(export_times), stats(bare_times), stats(pandas_times)
    reads, reads_cpu = stats(read_times)
    one, one_cpu = stats(one_process_times)
    size = Path(export_path).stat().st_size

    def runs(times):
        return ", ".join(f"{w:.2f}" for w, _ in times)

    return "\n".join([
        f"## Roll-up workbook export (FY{fy}, all programs)", "",
        f"{cells:,} cells on {sheets} sheets (Detail: {shape[0]:,} reports x {shape[1]} columns), {size / 1e6:.1f} MB; "
        f"median of {ctx.runs} runs, the export, the bare writer and the export's reads interleaved in the same "
        "process. Wall time (the targets), and CPU time: of all the process's threads and of the processes it "
        "forks, so the export, which reads on three connections at once and writes the Detail sheet's rows in "
        "two processes (`reporting.workbooks.writer.Sheet.rows`), uses more CPU time than wall time.", "",
        "| what | wall s (median) | CPU s (median) | wall runs (s) |", "|---|---|---|---|",
        f"| export end to end (`reporting.workbooks.build('rollup')`: queries, suppression, {sheets} sheets, 4 charts; "
        f"the Detail rows in {processes} processes) | {export:.2f} | {export_cpu:.2f} | {runs(export_times)} |",
        f"| the same export with the Detail rows in one process (as in a process running other threads: the "
        f"development server, the scheduler) | {one:.2f} | {one_cpu:.2f} | {runs(one_process_times)} |",
        f"| of which the reads and the suppression, before any cell is written (`build_rollup(detail=True, "
        f"parallel=True)`, timed apart) | {reads:.2f} | {reads_cpu:.2f} | {runs(read_times)} |",
        f"| bare xlsxwriter, same cells and types from rows in memory (`bench/bare_xlsxwriter.py`) | {bare:.2f} | "
        f"{bare_cpu:.2f} | {runs(bare_times)} |",
        f"| pandas read_sql + pivot_table + to_excel(openpyxl), Detail sheet only (`bench/pandas_way.py`) | "
        f"{pandas:.2f} | {pandas_cpu:.2f} | {runs(pandas_times)} |", "",
        "| target | wall | CPU | result |", "|---|---|---|---|",
        f"| export <= 1.25 x bare | {export / bare:.2f}x | {export_cpu / bare_cpu:.2f}x | "
        f"{_verdict(export / bare <= 1.25)} |",
        f"| the same, the Detail rows in one process | {one / bare:.2f}x | {one_cpu / bare_cpu:.2f}x | "
        f"{_verdict(one / bare <= 1.25)} |",
        f"| export >= 3 x faster than pandas | {pandas / export:.1f}x | {pandas_cpu / export_cpu:.1f}x | "
        f"{_verdict(pandas / export >= 3)} |",
        "",
    ])


MEMORY_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})

def high_water_mb():  # VmHWM is this process's own peak; ru_maxrss would carry the parent's across exec
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024

import os
exit_now = os._exit
def measured_exit(status):  # the export's writer processes (forks of this one) say what they used, then leave
    with open(os.path.join({out!r} + ".writers", str(os.getpid())), "w") as f:
        private_kb = [int(l.split()[1]) for l in open("/proc/self/smaps_rollup") if l.startswith("Private_")]
        print(sum(private_kb) / 1024, high_water_mb(), file=f)
    exit_now(status)
os._exit = measured_exit
os.makedirs({out!r} + ".writers", exist_ok=True)

from bench.__main__ import Context
ctx = Context({url!r}, {{}}, None, 1)
app = ctx.app()
from reporting import workbooks
from reporting.rollup import RollupParams
with app.app_context():
    before = high_water_mb()
    started = time.perf_counter()
    workbooks.build("rollup", RollupParams(fiscal_year={fy}), {out!r})
    elapsed = time.perf_counter() - started
print(before, high_water_mb(), elapsed)
"""


def bench_export_memory(ctx: Context) -> str:
    """Peak resident memory (VmHWM) of a fresh process that does one export."""
    fy = ctx.dataset["fiscal_year"]
    script = MEMORY_SCRIPT.format(root=str(ROOT), url=ctx.database_url, fy=fy, out=str(ctx.workdir / "mem.xlsx"))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=ctx.env, capture_output=True, text=True,
                         check=True).stdout.split()
    before, peak, elapsed = float(out[0]), float(out[1]), float(out[2])
    writers = [[float(v) for v in f.read_text().split()] for f in sorted((ctx.workdir / "mem.xlsx.writers").iterdir())]
    own = sum(private for private, _ in writers)
    lines = [
        "## Peak memory of the export", "",
        "| what | MB | target | result |", "|---|---|---|---|",
        f"| process after start-up (Flask app, SQLAlchemy, xlsxwriter imported) | {before:.0f} | | |",
        f"| peak of the whole process after the FY{fy} export ({elapsed:.1f} s) | {peak:.0f} | | |",
        f"| of which the export itself | {peak - before:.0f} | | |",
    ]
    for i, (private, high) in enumerate(writers, 1):
        lines.append(f"| writer process {i} of the Detail sheet (a fork of the process): its own memory at its end, "
                     f"the pages it did not share with the process (its resident peak with the shared ones: "
                     f"{high:.0f}) | {private:.0f} | | |")
    lines += [f"| the process's peak and its writer processes' own memory | {peak + own:.0f} | < 150 | "
              f"{_verdict(peak + own < 150)} |", ""]
    return "\n".join(lines)


def bench_dashboard(ctx: Context) -> str:
    """The dashboard for a whole fiscal year, and its table of every measure by program, through
    gunicorn (2 workers), signed in as leader."""
    from bench.load import Browser, free_port

    fy = ctx.dataset["fiscal_year"]
    port = free_port()
    log = open(ctx.workdir / "gunicorn.log", "w")
    server = subprocess.Popen([str(VENV / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=ctx.env, stdout=log, stderr=subprocess.STDOUT)
    pages = {"dashboard": f"/dashboard?fy={fy}", "every measure by program": f"/dashboard/measures?fy={fy}"}
    times: dict[str, list[float]] = {name: [] for name in pages}
    sizes = {}
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        for _ in range(150):
            try:
                if browser.request("/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        browser.sign_in("leader@demo.test")  # the real form, with its CSRF token
        for name, path in pages.items():
            for _ in range(4):  # both workers warm
                status, page, _ = browser.request(path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            for _ in range(30):
                status, page, seconds = browser.request(path)
                assert status == 200
                times[name].append(seconds * 1000)
            sizes[name] = len(page)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    lines = [
        f"## Dashboard pages, whole FY{fy}", "",
        "gunicorn, 2 workers, 127.0.0.1; signed in as leader@demo.test through the sign-in form (CSRF token parsed "
        "from the page); each page 30 times after 4 warm-up requests: "
        + "; ".join(f"`GET {path}` ({sizes[name] / 1024:.0f} KB of HTML)" for name, path in pages.items()) + ".", "",
        "| page | statistic | ms | target | result |", "|---|---|---|---|---|",
    ]
    for name, ms in times.items():
        median, p95 = _median(ms), _p95(ms)
        lines += [f"| {name} | median | {median:.0f} | < 300 | {_verdict(median < 300)} |",
                  f"| {name} | p95 | {p95:.0f} | < 300 | {_verdict(p95 < 300)} |",
                  f"| {name} | min / max | {min(ms):.0f} / {max(ms):.0f} | | |"]
    return "\n".join([*lines, ""])


from bench.ops import bench_deadline_scan, bench_load, bench_portfolio  # noqa: E402 - next to the list it fills

# Add a benchmark here: (name, function(Context) -> Markdown section).
BENCHMARKS: list[tuple[str, Callable[[Context], str]]] = [
    ("rollup-export", bench_rollup_export),
    ("export-memory", bench_export_memory),
    ("dashboard", bench_dashboard),
    ("portfolio", bench_portfolio),
    ("deadline-scan", bench_deadline_scan),
    ("load", bench_load),
]


# --- the dataset and the report --------------------------------------------------------------------

def prepare(fresh: bool) -> tuple[str, dict, dict]:
    DATA.mkdir(parents=True, exist_ok=True)
    db_path, marker = DATA / "bench.sqlite", DATA / "bench.json"
    url = f"sqlite:///{db_path}"
    os.environ["INSTANCE_PATH"] = str(DATA / "instance")  # the in-process app's instance folder too
    env = {**os.environ, "DATABASE_URL": url}
    wanted = {"grants": GRANTS, "years": YEARS, "seeded_on": date.today().isoformat()}
    known = json.loads(marker.read_text()) if marker.exists() else {}
    flask = [str(VENV / "flask"), "--app", "wsgi"]
    if fresh or not db_path.exists() or {k: known.get(k) for k in wanted} != wanted:
        for path in DATA.glob("bench.sqlite*"):
            path.unlink()
        started = time.perf_counter()
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        seeded = subprocess.run([*flask, "demo", "seed", "--grants", str(GRANTS), "--years", str(YEARS)], cwd=ROOT,
                                env=env, check=True, capture_output=True, text=True).stdout.strip()
        known = {**wanted, "seed_output": seeded, "seed_s": round(time.perf_counter() - started, 1)}
        marker.write_text(json.dumps(known))
    else:  # a database seeded earlier today gets the migrations written since, as a deployed one would
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return url, env, known


def dataset_facts(ctx: Context) -> dict:
    from sqlalchemy import func, select

    from grants.extensions import db
    from grants.models import Grant, Report, ReportValue
    from grants.periods import eastern_today, fiscal_year_of

    with ctx.app().app_context():
        fy = fiscal_year_of(eastern_today()) - 1  # the latest full fiscal year
        return {"fiscal_year": fy, "grants": db.session.scalar(select(func.count(Grant.id))),
                "reports": db.session.scalar(select(func.count(Report.id))),
                "values": db.session.scalar(select(func.count(ReportValue.id))),
                "fy_reports": db.session.scalar(select(func.count(Report.id)).where(Report.fiscal_year == fy))}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs (nproc), {cpu}; Python {platform.python_version()} on {platform.platform()}; "
            f"load average at start {load}")


MARK = "<!-- bench:{} -->"


def previous_sections() -> dict[str, str]:
    """The sections of bench/RESULTS.md by benchmark name (each starts with its MARK)."""
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text().split("\n## Notes", 1)[0]
    found = {}
    for chunk in text.split("<!-- bench:")[1:]:
        name, _, rest = chunk.partition(" -->")
        found[name] = (MARK.format(name) + rest).rstrip() + "\n"
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and write bench/RESULTS.md.")
    parser.add_argument("--only", nargs="*", choices=[name for name, _ in BENCHMARKS])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="Seed the database again.")
    args = parser.parse_args(argv)
    url, env, seed = prepare(args.fresh)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        ctx = Context(url, env, Path(tmp), args.runs)
        ctx.dataset = dataset_facts(ctx)
        header = [
            "# Benchmarks", "",
            f"Written {datetime.now():%Y-%m-%d %H:%M} by `.venv/bin/python -m bench` (`make bench`). Each section "
            "says when and on which machine it ran: a partial run (`--only`) keeps the other sections as they were.", "",
            f"- Dataset: `demo seed --grants {GRANTS} --years {YEARS}` in SQLite (WAL) under bench/data/: "
            f"{ctx.dataset['grants']:,} grants, {ctx.dataset['reports']:,} reports, {ctx.dataset['values']:,} values "
            f"({seed.get('seed_output', '')}); FY{ctx.dataset['fiscal_year']} (the latest full fiscal year) has "
            f"{ctx.dataset['fy_reports']:,} reports.", "",
        ]
        kept = previous_sections()
        sections = []
        for name, bench in BENCHMARKS:
            if args.only and name not in args.only:
                if name in kept:  # a partial run keeps the other benchmarks' last figures
                    sections.append(kept[name])
                continue
            print(f"running {name} ...", flush=True)
            section = f"{MARK.format(name)}\n(Run {datetime.now():%Y-%m-%d %H:%M} on {machine()}.)\n\n{bench(ctx)}"
            print(section, flush=True)
            sections.append(section)
    RESULTS.write_text("\n".join(header + sections) + NOTES)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


NOTES = """
## Notes

- Every roll-up table is grouped in the database by the same queries (`reporting.rollup._grouped`)
  for every caller, dashboard, API and workbook alike, so the roll-up rules are written once, in
  that SQL: program x community with counts, means and measure totals (every table adds them up),
  program with the breakdown categories alone, fiscal year x half (the trend). The workbook also
  reads each report's values once for the Detail sheet; that read gives the suppression its
  report-level people counts. The dashboard and the API read those people counts alone
  (`people_values`), so every publication of one choice of filters hides the same figures: that
  read is part of the dashboard's time measured here.
- The workbook runs those independent reads at the same time on three connections that read one
  snapshot (`grants/snapshots.py`: an exported snapshot on PostgreSQL, pins checked with
  `PRAGMA data_version` on SQLite); the dashboard runs them one after the other. It also pauses
  Python's cyclic garbage collector while it builds (`reporting/workbooks/__init__.py`); the bare
  writer and the pandas script run as written.
- Roll-up statements are built once per choice of filters and reused by later requests and
  exports in the same process (`reporting.rollup._statements`); the database's values are read
  afresh every time. The medians above are of repeated runs, so they include no statement
  building: building them costs about 16 ms of the export's reads (167 against 151 ms for the
  reads run one after the other, measured apart), paid by the first export of a choice of filters.
- The export writes the Detail sheet's rows (51,231 of its 60,988 cells) in two processes at once
  (`reporting.workbooks.writer.Sheet.rows`, since 2026-12-04): a forked copy of the process writes
  the first half into a file of its own while the process writes the second, and the halves are
  joined into the sheet's file (byte for byte the file one process writes). That is how it meets
  1.25x of the bare writer's wall time: its reads and suppression before the first cell take what
  they took before, and the writing of the Detail rows, about three quarters of the bare writer's
  time, is shared by the two cores. It costs CPU time instead (the CPU column counts the writer
  process: the export takes more than 1.25x the bare writer's CPU time), and it uses a second
  core, which a busy server would otherwise give another request. A process running other threads
  (the development server, the scheduler's monthly email) writes them in one process, as the row
  "in one process" measures: that is the export of the runs before, and it misses 1.25x.
- Before the writer processes, the export's time over the bare writer was the row "of which the
  reads and the suppression": writing the cells cost what the bare writer costs. Meeting 1.25x
  that way would have needed those reads in a quarter of the writing time; they are several passes
  over the year's counted values, on two cores, and are the one place where the roll-up rules
  live, so they were not traded for speed (a version that folded the tables in Python from the
  Detail rows was faster, but wrote the rules a second time, and was reverted). The notes below
  are of that time.
- Tried on 2026-12-02 and not kept (measured outside any run, on the machine of that day's sections):
  - writing the Detail sheet first, while the other measures' figures are read (the suppression
    needs only the people measures, so the rest could wait): the export took 1.58x the bare
    writer instead of 1.44x. On two cores these reads are CPU-bound, in SQLite and in Python
    (138 ms one after the other, 105 ms at the same time); the people measures' reads alone
    still took about 70 ms, and the later reads then ran beside the suppression and slowed it.
  - SQLite mapping the database file into memory (`PRAGMA mmap_size`): the roll-up's queries
    about 4% faster, but the export's peak memory went from 125 MB to 281 MB (mapped pages count
    as the process's own), over the 150 MB target.
  - (later that day) where the export's time over the bare writer goes, with the statements
    timed apart: their SQL alone takes 66 ms on one connection and 45 ms on three at once (two
    cores), so even with no Python work at all the export would be about 1.17x the bare writer.
    The Python part of the reads and the suppression is about 54 ms of CPU, and Python runs one
    thread at a time, so it adds most of itself to the wall time. Registering the report-level
    cells in bulk made no measurable difference (11.4 ms before and after) and was reverted; an
    index of report_value ordered by dimension took the program x community totals from 12.6 to
    9.7 ms and changed nothing else, not worth a migration; a shorter thread switch interval
    (`sys.setswitchinterval` 1 ms or 0.2 ms instead of 5 ms) changed nothing (91 to 95 ms).
    The figures of this note so far are from the earlier Xeon machine. On the AMD EPYC machine of
    the 2026-12-02 afternoon runs (bare writer 0.49 s), timed apart by a script: the reads 89 ms, registering the
    suppression's cells and relations 19 ms, solving it 8 ms; the reads' ten statements alone,
    spread over three connections longest first with no Python work on their rows, 60 ms. So even
    perfect scheduling of the reads would leave the export near 1.25x here, not under it.
  - (2026-12-02 evening, same machine, measured apart) where the 1.30x goes: the export spends
    110 ms before its first cell (reads 80 ms on three connections, 117 ms one after the other;
    the suppression 25 ms) and 33 ms more than the bare writer in the writing (the Detail rows
    14 ms, the other sheets 15 ms, charts and formats at close 9 ms). Python runs one thread at
    a time, so only the database's share of the reads can run beside anything, and on two cores
    it already does. Tried again and not kept: the other measures' reads (everything the
    suppression does not need) moved to run while the Detail sheet is written, each statement's
    rows coming back as one JSON document so the reading thread needs Python once: the reads
    before the first cell went from 111 to 86 ms, but their Python work and the merge moved
    into the writing (the Detail sheet 9 ms slower, the other sheets 9 ms), and the export took
    631 ms against 634; one materialized scan of the year's counted values feeding every grouped
    table in one statement: 60 ms against 42 ms for the separate statements (their cost is the
    GROUP BY sorts, not the scans); `PRAGMA temp_store=MEMORY`: slower.
- (2026-12-02, later, same machine, measured apart) the reads and the suppression are CPU-bound:
  186 ms of CPU in 128 ms of wall time (1.45 of the 2 cores). One after the other they take about
  179 ms: the Detail read 47 ms (its SQL alone 22 ms: the rest is its rows' types, JSON and
  people rows), the grouped reads 49 + 25 + 18 ms (their SQL alone 37 + 26 + 19 ms), the
  suppression 28 ms (registering 19, solving 9), folding the cells 9 ms. Even with the reads
  spread perfectly over both cores (about 75 ms), the folding and the suppression after them
  (37 ms) and the writing's own time over the bare writer (about 35 ms: the Detail rows 20, the
  other sheets 11, the close 4) exceed the 125 ms that 1.25x of the bare writer's 0.50 s allows.
- (2026-12-02, night, same machine, measured apart) the export's writing alone, from a roll-up
  already built, takes 519 ms against the bare writer's 486: the Detail sheet 14 ms more (its
  rows' figures and suppression labels 6 ms, finding each report's hidden cells 3 ms), By
  community 7 ms more (each figure looked up through the suppression), the close 8 ms more (the
  four charts). Kept: decoding the database's JSON objects with orjson instead of the standard
  library (the export's 1,987 objects in 2.3 ms instead of 11.7) and marking the suppression's
  primary cells in one pass (its solve 8.5 to 7.1 ms): the ratio measured apart went from 1.288x
  to 1.278x. Tried and not kept: two reading connections or four instead of three (1.273x and
  1.288x against 1.277x, within the noise); scanning a report's values on the version alone and
  testing the measure codes after (6.9 ms against 7.0: the cost of that scan is testing the
  codes, and the grouping's sorts after it).
- (2026-12-03 morning, measured apart, on the AMD EPYC machine of that day's first export runs) reading the rows
  through the driver's own cursor instead of SQLAlchemy's results: the Detail reads 15.3 and 17.9
  ms against 10.6 and 13.4 (most of it turning SQLite's date text into dates, which the Detail
  rows need all the same), the grouped statements no faster; not kept. The heaviest statement,
  the program x community measure totals (26 ms), spends about 10 ms scanning the year's values,
  10 ms sorting them for the GROUP BY and 6 ms building the JSON objects; one row per group with a
  filtered sum per measure instead of one per cell saved 2 ms, and scanning grants in program and
  community order (a new index) to spare the sort was slower (25 ms: it reads every year's reports
  of each grant). The same export on PostgreSQL (the same seed, vacuumed and analysed): 0.75 s
  against the bare writer's 0.49 s, 1.53x, its reads slower than SQLite's in-process ones.
- (2026-12-03 evening, measured apart, on the Intel Xeon machine of the 18:03 run) the reads
  and the suppression take 95-96 ms at the same time on three connections against 121-123 ms one after
  the other: reads 65-67 ms (93-95 ms one after the other), registering 14 ms, solving 6 ms, folding
  the rest. Run at the same time, the program x community statement takes 60 ms instead of
  31 ms: SQLite counts every allocation under one process-wide mutex. Switching that off
  (`sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)` through ctypes, before the first connection)
  let it run alongside the Detail read in its own 36 ms, and the reads and the suppression took
  88 ms instead of 96 measured apart; but in `make bench`'s export benchmark (9 runs) the export
  was 1.37x the bare writer with it, as without, its reads and suppression still 0.10 s: the
  Detail read (30 ms alone, 57 ms beside the others) stays the longest, and most of it is
  Python, which runs one thread at a time. Not kept. Nor was running the Detail read's two
  statements (the reports, and their values) on connections of their own: 102 to 113 ms for the
  reads and the suppression on three or four connections, against 99 to 100 ms.
- The pandas comparison writes only the Detail sheet and does no suppression; the export writes
  every sheet, with charts.
- The deadline scan's outbox is a directory on the same disk as the databases: creating a file
  costs most when the database is writing too, which is why PostgreSQL's delivery is slower than
  SQLite's. Each message is sent, then marked sent in its own transaction, so a crash resends at
  most that one message.
- Benchmarks that need PostgreSQL start a throwaway cluster with PostgreSQL's default durability
  (fsync and synchronous_commit on); the test suite's cluster runs without it.
- Timings come from a shared 2-core machine; the load average above says how busy it was.
"""


if __name__ == "__main__":
    main()
