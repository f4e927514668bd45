"""pytest-xdist: one server per worker, one checkpoint per run, nothing reported is lost."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_model_analyzer.infra import monitor
from tests.support import MODELS

pytestmark = pytest.mark.e2e


def sweep(repo: Path, concurrency: str = "[1, 2, 4]", interval: int = 200) -> str:
    return f"""
model_repository: {repo}
run_config_search_disable: true
profile_models:
  sleep:
    cpu_only: true  # also on a GPU host: CPU instances, so that two workers may share the host
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
      dynamic_batching: [null, {{}}]
concurrency: {concurrency}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: {interval}, stability-percentage: 50}}
"""


def test_two_workers_two_servers_one_checkpoint(run_profile, pytester: pytest.Pytester) -> None:
    run = run_profile(sweep(MODELS), "-n", "2", "-v")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert len(run.items) == 9 and len({item.nodeid for item in run.items}) == 9
    output = run.result.stdout.str()
    # loadscope: each variant's points ran on one worker, and both workers measured.
    worker_of: dict[str, set[str]] = {}
    for worker, variant in re.findall(r"\[(gw\d)\] \[ *\d+%\] PASSED .*::sleep::(sleep_config_\w+)::", output):
        worker_of.setdefault(variant, set()).add(worker)
    assert len(worker_of) == 3 and all(len(workers) == 1 for workers in worker_of.values())
    assert len(set().union(*worker_of.values())) == 2
    checkpoints = sorted((pytester.path / "checkpoints").iterdir())
    assert [p.name for p in checkpoints] == ["0.ckpt"]
    assert len(json.loads(checkpoints[0].read_text())["measurements"]) == 9
    run.result.stdout.fnmatch_lines(["*model analyzer: 9 measurements*", "sleep: best configuration is *"])


def test_killed_worker_loses_nothing_it_reported(tmp_path: Path, model_repo) -> None:
    profile = tmp_path / "sweep.yaml"
    profile.write_text(sweep(model_repo("sleep"), "[1, 2, 3, 4, 5, 6]", interval=400))
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile), "-n", "2", "-v",
         "--max-worker-restart=0", f"--basetemp={tmp_path / 'base'}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        found = re.search(r"\[(gw\d)\] \[ *\d+%\] PASSED", line)
        if found and sum(found.group(1) in seen and "PASSED" in seen for seen in lines) >= 2:
            victim = found.group(1)
    assert victim is not None, "".join(lines)
    # The workers are the controller's children, spawned in order gw0, gw1 (so in pid order).
    children = sorted(int(pid) for pid in
                      subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split())
    assert len(children) == 2, children
    os.kill(children[int(victim[2:])], signal.SIGKILL)
    output = "".join(lines) + process.communicate(timeout=300)[0]
    reported = {line.split("::")[-1].split()[0] + "@" + line.split("::")[-2]
                for line in output.splitlines() if re.search(rf"\[{victim}\] \[ *\d+%\] PASSED", line)}
    data = json.loads((tmp_path / "checkpoints" / "0.ckpt").read_text())
    saved = {f"b{m['batch_size']}-c{m['load']}@{m['variant']}" for m in data["measurements"]}
    assert reported and reported <= saved, (reported, saved)
    assert "crashed" in output
    # The killed worker's server died with it (parent-death signal), and the other worker stopped its own.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in ps.splitlines() if "tritonserver" in line and str(tmp_path) in line]


def test_ctrl_c_under_xdist_finishes_current_items_and_saves_once(tmp_path: Path, model_repo) -> None:
    profile = tmp_path / "sweep.yaml"
    profile.write_text(sweep(model_repo("sleep"), "[1, 2, 3, 4, 5, 6]", interval=400))
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile), "-n", "2", "-v",
         f"--basetemp={tmp_path / 'base'}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    while sum("PASSED" in line for line in lines) < 3:
        line = process.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: controller and workers
    output = "".join(lines) + process.communicate(timeout=300)[0]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    passed = {line.split("::")[-1].split()[0] + "@" + line.split("::")[-2]
              for line in output.splitlines() if re.search(r"\[gw\d\] \[ *\d+%\] PASSED", line)}
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["0.ckpt"]
    data = json.loads((tmp_path / "checkpoints" / "0.ckpt").read_text())
    assert {f"b{m['batch_size']}-c{m['load']}@{m['variant']}" for m in data["measurements"]} == passed
    assert len(passed) < 18 and data["interrupted"] is True
    assert "Traceback" not in output


def test_more_workers_than_gpus_is_a_usage_error(pytester: pytest.Pytester, write_profile,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    one_gpu = [monitor.GpuInfo(uuid="GPU-0", index=0, name="Fake")]
    monkeypatch.setattr(monitor, "gpu_inventory", lambda selection=("all",): one_gpu)
    write_profile(f"model_repository: {MODELS}\nprofile_models: add\nconcurrency: 1\n")
    result = pytester.runpytest("--ma-config", "profile.yaml", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: -n 2: 2 workers but 1 GPU(s) selected by `gpus`; measurements sharing a "
                                 "GPU are wrong: use at most one worker per GPU"])


def test_more_workers_than_remote_servers_is_a_usage_error(pytester: pytest.Pytester, write_profile) -> None:
    write_profile("triton_launch_mode: remote\nprofile_models: add\nconcurrency: 1\n"
                  "triton_http_endpoints: [127.0.0.1:1, 127.0.0.1:2]\n"
                  "triton_grpc_endpoints: [127.0.0.1:3, 127.0.0.1:4]\n")
    result = pytester.runpytest("--ma-config", "profile.yaml", "-n", "3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: -n 3: 3 workers but 2 remote server(s)*"])
