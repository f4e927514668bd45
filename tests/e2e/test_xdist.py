"""pytest-xdist: one server per worker, one checkpoint per run, nothing reported is lost."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from pytest_model_analyzer.infra import monitor
from pytest_model_analyzer.infra.server import is_live
from tests.support import FAST_FLAGS_YAML, MODELS

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


def start_sweep(tmp_path: Path, model_repo, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """A sweep of 18 points under `-n 2` in a session of its own, once three points have passed."""
    profile = tmp_path / "sweep.yaml"
    profile.write_text(sweep(model_repo("sleep"), "[1, 2, 3, 4, 5, 6]", interval=400))
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile), "-n", "2", "-v",
         f"--basetemp={tmp_path / 'base'}", *extra],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    while sum("PASSED" in line for line in lines) < 3:
        line = process.stdout.readline()
        assert line, "".join(lines)
        lines.append(line)
    return process, lines


def test_two_workers_two_servers_one_checkpoint(run_profile, pytester: pytest.Pytester) -> None:
    run = run_profile(sweep(MODELS), "-n", "2", "-v")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert len(run.items) == 9 and len({item.nodeid for item in run.items}) == 9
    output = run.result.stdout.str()
    # loadscope: each variant's points ran on one worker, and both workers measured.
    worker_of: dict[str, set[str]] = {}
    for worker, variant in re.findall(r"\[(gw\d)\] \[ *\d+%\] PASSED .*::sleep::(sleep_config_\w+)::", output):
        worker_of.setdefault(variant, set()).add(worker)
    # A variant runs on one worker, unless some of its points moved to a worker that had run out of work.
    assert len(worker_of) == 3
    moved = " ".join(line for line in output.splitlines() if "ran on a second worker" in line)
    for variant, workers in worker_of.items():
        assert len(workers) == 1 or variant in moved, (variant, output)
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
    # With --max-worker-restart=0 xdist stops the run at the crash: the point the worker died on is reported
    # FAILED once, saying that no worker was left to measure it again.
    assert "no worker was left to measure it again" in output
    assert re.search(r"= 1 failed, \d+ passed, 1 rerun in ", output), output[-3000:]


def test_the_point_a_worker_died_on_is_measured_again_and_reported_once(tmp_path: Path, model_repo) -> None:
    """xdist replaces the crashed worker (the default): the point it died on is measured again, and every
    point has one result (xdist alone reported it FAILED and then PASSED: 19 results for 18 points)."""
    process, lines = start_sweep(tmp_path, model_repo, f"--junitxml={tmp_path / 'junit.xml'}")
    children = [int(pid) for pid in
                subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()]
    os.kill(min(children), signal.SIGKILL)
    output = "".join(lines) + process.communicate(timeout=300)[0]
    assert process.returncode == pytest.ExitCode.OK, output[-3000:]
    assert re.search(r"= 18 passed, 1 rerun in ", output), output[-3000:]
    assert "it was measured again on another worker" in output
    # junit XML: each point once, passed (the held-back crash report leaves an unnamed entry without a result:
    # pytest's junitxml opens one for any report; see docs/scaling.md).
    cases = [case for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase") if case.get("name")]
    assert len(cases) == 18 == len({case.get("name") + case.get("classname") for case in cases})
    assert not [case for case in cases if case.find("failure") is not None or case.find("error") is not None]
    data = json.loads((tmp_path / "checkpoints" / "0.ckpt").read_text())
    assert len(data["measurements"]) == 18
    # The killed worker's server died with it (parent-death signal), and the other worker stopped its own.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in ps.splitlines() if "tritonserver" in line and str(tmp_path) in line]


def test_ctrl_c_under_xdist_finishes_current_items_and_saves_once(tmp_path: Path, model_repo) -> None:
    process, lines = start_sweep(tmp_path, model_repo)
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


def test_distributed_mode_rsyncs_the_suite_to_each_gateway_and_saves_one_checkpoint(tmp_path: Path) -> None:
    """docs/scaling.md's `-d --tx ssh=host//python=...`, with popen gateways in directories of their own: xdist
    rsyncs the suite (profile and model repository) there, each worker starts a server on its "host" from
    that copy, and the controller alone writes the checkpoint, in its own directory."""
    project = tmp_path / "project"
    suite = project / "suite"
    shutil.copytree(MODELS / "sleep", suite / "models" / "sleep")
    (suite / "profile.yaml").write_text(sweep(Path("models"), "[1, 2]"))
    hosts = [tmp_path / "host1", tmp_path / "host2"]
    gateways = [arg for host in hosts for arg in ("--tx", f"popen//chdir={host}//python={sys.executable}")]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config=suite/profile.yaml", "-d",
         *gateways, "--rsyncdir", str(suite), "-v", f"--basetemp={tmp_path / 'base'}"],
        cwd=project, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.OK, output
    for host in hosts:  # each "host" got the suite and measured from its own copy
        assert (host / "suite" / "models" / "sleep" / "config.pbtxt").exists()
        assert not (host / "checkpoints").exists()  # workers only read; the controller writes
    workers = set(re.findall(r"\[(gw\d)\] \[ *\d+%\] PASSED", output))
    assert workers == {"gw0", "gw1"}, output
    checkpoints = sorted(p.name for p in (project / "checkpoints").iterdir())
    assert checkpoints == ["0.ckpt"], checkpoints
    data = json.loads((project / "checkpoints" / "0.ckpt").read_text())
    assert len(data["measurements"]) == 6  # 3 variants x 2 loads


def test_a_fleet_of_two_servers_one_per_worker(run_profile, tmp_path: Path) -> None:
    """The fleet recipe of docs/scaling.md: `python -m pytest_model_analyzer.infra.fleet` starts two servers and writes
    their endpoints; a remote-mode profile with them runs `-n 2`, one worker per server."""
    endpoints_file = tmp_path / "fleet.yaml"
    fleet = subprocess.Popen(
        [sys.executable, "-m", "pytest_model_analyzer.infra.fleet", "--model-repository", str(MODELS),
         "--servers", "2", "--endpoints", str(endpoints_file), "--logs", str(tmp_path / "logs")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert fleet.stdout is not None
        assert "ready" in fleet.stdout.readline()
        endpoints = yaml.safe_load(endpoints_file.read_text())
        assert len(endpoints["triton_grpc_endpoints"]) == 2
        run = run_profile(endpoints_file.read_text() + """
run_config_search_disable: true
profile_models:
  sleep:
    cpu_only: true
    model_config_parameters:
      instance_group: [[{kind: KIND_CPU, count: 2}], [{kind: KIND_CPU, count: 3}]]
concurrency: [1, 2]
""" + FAST_FLAGS_YAML, "-n", "2", "-v")
        output = run.result.stdout.str()
        assert run.result.ret == pytest.ExitCode.OK, output
        assert len(run.measured) == 6
        # Each worker measured against its own server: both served inferences.
        served = [monitor.parse_prometheus(urllib.request.urlopen(url, timeout=5).read().decode(),
                                           ["nv_inference_request_success"])["nv_inference_request_success"]
                  for url in endpoints["triton_metrics_urls"]]
        assert all(count > 0 for count in served), served
        assert fleet.poll() is None  # remote servers are left running
    finally:
        fleet.send_signal(signal.SIGTERM)
        assert fleet.wait(timeout=60) == 0
    assert not any(is_live(http) for http in endpoints["triton_http_endpoints"])  # SIGTERM stopped them all
