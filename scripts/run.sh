#!/usr/bin/env bash
# make run: migrate, seed the demo data into an empty database, then serve the app with the
# scheduler beside it. Ctrl-C (or TERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

flask=(.venv/bin/flask --app wsgi)
"${flask[@]}" db upgrade
"${flask[@]}" demo seed --if-empty

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

"${flask[@]}" schedules run &
pids+=("$!")
# Started in the background too (its output still goes to this terminal) so that the shell can
# act on Ctrl-C at once: bash runs a trap only after a foreground child has exited.
"${flask[@]}" run --host 127.0.0.1 --port "${PORT:-5000}" &
pids+=("$!")

echo "Serving on http://127.0.0.1:${PORT:-5000} with the scheduler; Ctrl-C stops both."
# Whichever stops first (a crash, a port already in use) takes the other down with it.
status=0
wait -n || status=$?
exit "$status"
