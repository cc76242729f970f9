#!/usr/bin/env bash
# Creates .venv with Python 3.11 when missing and installs a requirements file into it, again only
# when that file (or requirements.txt, which the dev file includes) has changed since last time.
# Usage: scripts/venv.sh [requirements.txt|requirements-dev.txt]
set -euo pipefail
cd "$(dirname "$0")/.."

req="${1:-requirements.txt}"
python="${PYTHON:-python3.11}"

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi

stamp=".venv/.stamp-$(basename "$req" .txt)"
digest="$(cat "$req" requirements.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$digest" > "$stamp"
fi
