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


@pytest.mark.parametrize("presses", [1, 3])
def test_ctrl_c_saves_every_completed_item_and_leaves_no_process(tmp_path: Path, model_repo, presses: int) -> None:
    process = start(tmp_path, sweep(tmp_path, model_repo))
    lines: list[str] = []
    wait_for_passes(process, 2, lines)  # the third item is being measured now
    for _ in range(presses):
        os.killpg(process.pid, signal.SIGINT)
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
