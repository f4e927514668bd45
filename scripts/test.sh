#!/usr/bin/env bash
# Sets up .venv (quick when nothing changed) and runs the whole test suite, real server included.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
.venv/bin/ruff check .
.venv/bin/python -m mypy    # strict, on the package (pyproject.toml [tool.mypy])
status=0
# Two workers: most of an end-to-end test's time is spent waiting on perf_analyzer's windows, so two run side
# by side in about the time of one (each test's processes are its own: tests/e2e/conftest.py). MA_TEST_WORKERS=0
# runs them one at a time; a later -n in the arguments wins.
.venv/bin/python -m pytest -n "${MA_TEST_WORKERS:-2}" --dist worksteal "$@" || status=$?
# Exit code 5 means no test was collected (e.g. a -k that matched nothing): not a failure of the suite.
[ "$status" -eq 5 ] && status=0
exit "$status"
