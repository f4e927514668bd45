#!/usr/bin/env bash
# Creates .venv in the repository root with the plugin, the real Triton stack and the test tools.
# Idempotent: when pyproject.toml has not changed since the last set-up it returns at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
stamp=.venv/.ma-setup-stamp
want=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    exit 0
fi
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "setup: Python 3.10 or newer is needed ($python is $("$python" --version 2>&1))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[runtime,test,docs]'
# Links perf_analyzer's shared libraries and the Python backend into .venv (no root, no apt).
.venv/bin/python -m pytest_model_analyzer.infra.runtime --prepare
echo "$want" > "$stamp"
