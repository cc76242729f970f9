#!/usr/bin/env bash
# make test: installs what the suite needs, then runs it on SQLite and on a throwaway PostgreSQL
# cluster. SUITE=sqlite or SUITE=pg runs one; PYTEST_ARGS adds pytest options.
# Exits non-zero when either run fails or runs no test (pytest exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

suite="${SUITE:-all}"
case "$suite" in all|sqlite|pg) ;; *) echo "SUITE must be all, sqlite or pg" >&2; exit 2 ;; esac

# --- system packages (Debian), installed only when missing --------------------------------------
missing=()
for pkg in chromium postgresql libreoffice-calc-nogui; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Python and JavaScript test dependencies ----------------------------------------------------
scripts/venv.sh requirements-dev.txt

axe_version="${AXE_CORE_VERSION:-4.10.3}"
axe_dir="$repo/.cache/node"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$axe_dir"
  npm install --prefix "$axe_dir" --no-audit --no-fund --silent "axe-core@${axe_version}"
fi
export AXE_PATH="$axe_dir/node_modules/axe-core/axe.min.js"
vnu_version="${VNU_VERSION:-26.9.27}"
if [ ! -f "$axe_dir/node_modules/vnu-jar/build/dist/vnu.jar" ]; then
  npm install --prefix "$axe_dir" --no-audit --no-fund --silent "vnu-jar@${vnu_version}"
fi
export VNU_JAR="$axe_dir/node_modules/vnu-jar/build/dist/vnu.jar"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

# --- runs ---------------------------------------------------------------------------------------
logs="$(mktemp -d)"
# shellcheck source=scripts/pg.sh
. scripts/pg.sh
pg_stop_on_exit "$logs"


run_pytest() {  # name
  local name="$1"
  echo "=== pytest on $name ==="
  set +e
  # shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
  # Two workers (pytest-xdist): the machines have two cores. PYTEST_WORKERS=0 runs in one process.
  .venv/bin/python -m pytest -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" ${PYTEST_ARGS:-} tests 2>&1 \
    | tee "$logs/$name.log"
  echo "${PIPESTATUS[0]}" > "$logs/$name.code"
  set -e
}

start_postgres() {
  pg_start "$logs" || return 1
  as_pg "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE grants LOGIN CREATEDB PASSWORD 'grants'" \
    -c "CREATE DATABASE grants_test OWNER grants"
  export TEST_DATABASE_URL="postgresql+psycopg://grants:grants@127.0.0.1:$pg_port/grants_test"
}

if [ "$suite" = all ] || [ "$suite" = sqlite ]; then
  (unset TEST_DATABASE_URL; run_pytest sqlite)
fi
if [ "$suite" = all ] || [ "$suite" = pg ]; then
  if start_postgres; then
    run_pytest postgresql
  else
    echo "PostgreSQL did not start" > "$logs/postgresql.log"
    echo 1 > "$logs/postgresql.code"
  fi
fi

# --- summary ------------------------------------------------------------------------------------
failed=0
echo
for name in sqlite postgresql; do
  [ -f "$logs/$name.code" ] || continue
  code="$(cat "$logs/$name.code")"
  summary="$(grep -v '^\s*$' "$logs/$name.log" | tail -n 1)"
  case "$code" in
    0) ;;
    5) summary="no tests ran ($summary)"; failed=1 ;;
    *) failed=1 ;;
  esac
  echo "$name: $summary"
done
exit "$failed"
