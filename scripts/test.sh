#!/usr/bin/env bash
# Sets up .venv (quick when nothing changed) and runs the whole test suite, real server included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/ruff check .
.venv/bin/python -m mypy    # strict, on the package (pyproject.toml [tool.mypy])
status=0
.venv/bin/python -m pytest "$@" || status=$?
# Exit code 5 means no test was collected (e.g. a -k that matched nothing): not a failure of the suite.
[ "$status" -eq 5 ] && status=0
exit "$status"
