"""Ctrl-C during a real sweep: once finishes the current item and saves; three times saves and exits at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def leftovers(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if marker in line and ("tritonserver" in line or "perf_analyzer" in line)]


def sweep(tmp_path: Path, model_repo) -> Path:
    repo = model_repo("sleep")
    path = tmp_path / "sweep.yaml"
    path.write_text(f"""
model_repository: {repo}
run_config_search_disable: true
profile_models: sleep
concurrency: [1, 2, 3, 4, 5, 6, 7, 8]
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 500, stability-percentage: 50}}
""")
    return path


def start(tmp_path: Path, profile: Path) -> subprocess.Popen[str]:
    # A session of its own: os.killpg below is what a terminal's Ctrl-C does to the foreground group.
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--ma-config", str(profile), "-v",
         f"--basetemp={tmp_path / 'base'}"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_for_passes(process: subprocess.Popen[str], count: int, lines: list[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if sum("PASSED" in seen for seen in lines) >= count:
            return
    raise AssertionError("".join(lines))


def finish(process: subprocess.Popen[str], lines: list[str]) -> str:
    rest, _ = process.communicate(timeout=120)
    return "".join(lines) + rest


@pytest.mark.parametrize(("sig", "presses"), [(signal.SIGINT, 1), (signal.SIGINT, 3), (signal.SIGTERM, 1)],
                         ids=["ctrl-c", "ctrl-c-x3", "sigterm"])
def test_ctrl_c_saves_every_completed_item_and_leaves_no_process(tmp_path: Path, model_repo, sig: int,
                                                                 presses: int) -> None:
    """SIGTERM, what a CI runner sends on a timeout, is handled like Ctrl-C."""
    process = start(tmp_path, sweep(tmp_path, model_repo))
    lines: list[str] = []
    wait_for_passes(process, 2, lines)  # the third item is being measured now
    for _ in range(presses):
        os.killpg(process.pid, sig)
        time.sleep(0.1)
    output = finish(process, lines)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    passed = sorted(line.split("::")[-1].split()[0] for line in output.splitlines()
                    if "::b1-c" in line and "PASSED" in line)
    data = json.loads((tmp_path / "checkpoints" / "0.ckpt").read_text())
    saved = sorted(f"b{m['batch_size']}-c{m['load']}" for m in data["measurements"])
    assert saved == passed  # every completed item, and no partial one
    assert data["interrupted"] is True
    if presses == 1:
        assert len(saved) == 3  # the item in progress finished
        assert f"model-analyzer: saved 3 measurements (3 new) to {tmp_path}/checkpoints/0.ckpt" in output
    else:
        assert len(saved) == 2  # the item in progress was abandoned
        assert "saving the checkpoint and exiting now" in output
    assert "Traceback" not in output
    assert leftovers(str(tmp_path)) == []


def test_a_killed_run_loses_nothing_it_measured(tmp_path: Path, model_repo) -> None:
    """SIGKILL (an OOM kill, a CI runner's last resort) mid-model: no checkpoint was written, yet the next run
    measures only the points the killed run had not taken."""
    profile = sweep(tmp_path, model_repo)
    process = start(tmp_path, profile)
    lines: list[str] = []
    wait_for_passes(process, 3, lines)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    taken = sorted(line.split("::")[-1].split()[0] for line in lines if "::b1-c" in line and "PASSED" in line)
    assert not (tmp_path / "checkpoints" / "0.ckpt").exists()  # it died before its first save
    deadline = time.monotonic() + 30
    while leftovers(str(tmp_path)) and time.monotonic() < deadline:  # its server dies with it (PDEATHSIG)
        time.sleep(0.2)
    again = start(tmp_path, profile)
    output = finish(again, [])
    assert again.returncode == pytest.ExitCode.OK, output
    assert f"recovered {len(taken)} measurements of a run that was killed from its journal into 0.ckpt" in output
    reused = sorted(line.split("::")[-1].split()[0] for line in output.splitlines()
                    if "::b1-c" in line and "PASSED (from 0.ckpt" in line)
    assert reused == taken  # everything the killed run measured, and nothing measured twice
    assert output.count("PASSED") == 8 and not list((tmp_path / "checkpoints").glob(".journal-*"))
