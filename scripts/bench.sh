#!/usr/bin/env bash
# make bench: runs the benchmarks (python -m bench), which write bench/RESULTS.md. Starts a
# throwaway PostgreSQL cluster (scripts/pg.sh, as scripts/test.sh does, but with PostgreSQL's
# default durability: fsync and synchronous commit on, as in production) and passes its URL as
# BENCH_PG_URL; a benchmark that needs an empty database creates its own in it. Without
# PostgreSQL installed the benchmarks run on SQLite only.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f bench/__main__.py ]; then
  echo "no benchmarks yet"
  exit 0
fi

logs="$(mktemp -d)"
# shellcheck source=scripts/pg.sh
. scripts/pg.sh
pg_stop_on_exit "$logs"

if [ -z "${BENCH_PG_URL:-}" ]; then
  if [ -n "$pg_bin" ] && PG_DURABLE=1 pg_start "$logs"; then
    export BENCH_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
  else
    echo "PostgreSQL is not available: the benchmarks run on SQLite only." >&2
  fi
fi
.venv/bin/python -m bench "$@"
