"""Benchmark: deadline-scan twice over the benchmark dataset (2,000 grants, 10 years).

    .venv/bin/python bench/deadline_scan.py [--grants N] [--years Y] [--database-url URL]

A temporary SQLite database unless --database-url names an empty database (e.g. PostgreSQL).
Target: each run under 1 s; the second run sends nothing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    from schedules.jobs import benchmark_deadline_scan

    result = benchmark_deadline_scan(args.grants, args.years, args.database_url)
    print(f"deadline-scan over {args.grants} grants, {args.years} years (seeded in {result['seed_s']} s):")
    print(f"  first run:  {result['first_s']:.3f} s, {result['first_recorded']} ledger rows, {result['first_sent']} sent")
    print(f"  second run: {result['second_s']:.3f} s, {result['second_recorded']} ledger rows, {result['second_sent']} sent")
    return result


if __name__ == "__main__":
    main()
