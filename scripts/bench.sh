#!/usr/bin/env bash
# make bench: runs the benchmarks (python -m bench), which write bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f bench/__main__.py ]; then
  exec .venv/bin/python -m bench "$@"
fi
echo "no benchmarks yet"
