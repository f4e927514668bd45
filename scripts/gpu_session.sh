#!/usr/bin/env bash
# The one prepared run for a lent GPU machine (the `device` tool), whose device time is short: install the
# packed stack, run the end-to-end tests that take the GPU paths (NVML sampling, one GPU per worker, c_api on
# the GPU, the server's own GPU metrics in remote mode, a dying server on a GPU host), then
# benchmarks/scale.py on that machine's cores. Each stage has its own time limit, so that a slow one leaves
# the others their turn; each writes its log under $OUT as it goes, so a run cut short still reports.
#
#   here:  bash scripts/offline_stack.sh pack        # .devstack/stack.tar.xz, ignored via .git/info/exclude
#   there: bash scripts/gpu_session.sh               # the device run, with carry: [".devstack"]
set -uo pipefail
out=${OUT:-gpu-session-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
# The tests to run there; the default is every test whose path differs on a GPU host.
read -r -a GPU_TESTS <<< "${GPU_TESTS:-tests/e2e/test_gpu.py tests/e2e/test_measure.py tests/e2e/test_c_api.py tests/e2e/test_remote.py tests/infra/test_server.py}"
{ date -u; nvidia-smi -L; nproc; python3 --version; } 2>&1 | tee "$out/install.log"
if ! timeout 150 bash scripts/offline_stack.sh install >>"$out/install.log" 2>&1; then
    tail -30 "$out/install.log"
    echo "the offline install failed; nothing else was run"
    exit 1
fi
echo "installed at $(date -u +%T)"
timeout 220 python3 -m pytest -p no:cacheprovider -v -rfEs --durations=15 "${GPU_TESTS[@]}" \
    --junitxml="$out/gpu-tests.xml" 2>&1 | tee "$out/gpu-tests.log" | grep -E "PASSED|FAILED|ERROR|SKIPPED|XFAIL|passed|failed|^E "
echo "tests ended at $(date -u +%T)"
timeout 200 python3 benchmarks/scale.py --rounds 2 --json "$out/scale.json" 2>&1 | tee "$out/scale.log"
echo "scale ended at $(date -u +%T)"
