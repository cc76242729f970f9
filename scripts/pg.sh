# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/bench.sh: a throwaway PostgreSQL cluster on a free port of
# 127.0.0.1 (trust authentication), in temporary directories removed by pg_stop.
#   pg_start LOGDIR   initdb and start; sets pg_port (initdb's output goes to LOGDIR/initdb.log).
#                     Tests run without durability (fsync and full-page writes off: nothing of a
#                     throwaway test database needs to survive a crash; synchronous_commit stays
#                     on, the default, which the ledger's tests rely on);
#                     PG_DURABLE=1 keeps PostgreSQL's defaults, as in production (benchmarks).
#   as_pg psql ...    run a PostgreSQL client as the postgres user (runuser when we are root)
#   pg_stop           stop the cluster and remove its directories (safe to call when not started)
#   pg_stop_on_exit D on exit or interruption, stop the cluster and remove the folder D

pgdata=""
pgsock=""
pg_port=""
pg_bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {  # logdir
  local logdir="$1"
  pgdata="$(mktemp -d /tmp/pgdata-XXXXXX)"
  pgsock="$(mktemp -d /tmp/pgsock-XXXXXX)"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdata" "$pgsock"; fi
  chmod 700 "$pgdata"
  pg_port="$(free_port)"
  as_pg "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$logdir/initdb.log" 2>&1 || { cat "$logdir/initdb.log" >&2; return 1; }
  local options="-k $pgsock -p $pg_port -c listen_addresses=127.0.0.1"
  if [ "${PG_DURABLE:-0}" != 1 ]; then
    options="$options -c fsync=off -c full_page_writes=off"
  fi
  as_pg "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 -o "$options" \
    start >/dev/null || { cat "$pgdata/server.log" >&2; return 1; }
}

pg_stop() {
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf ${pgdata:+"$pgdata"} ${pgsock:+"$pgsock"}
}

pg_stop_on_exit() {  # folder to remove too
  _pg_extra_dir="$1"
  trap 'pg_stop; rm -rf "$_pg_extra_dir"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
