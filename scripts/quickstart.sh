#!/usr/bin/env bash
# Sets up .venv (quick when nothing changed) and profiles the example suite on the bundled server, on CPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python -m pytest --ma-config example_suites/quickstart.yaml -v "$@"
