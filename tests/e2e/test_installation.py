"""The server a local run starts, on the real stack: a full install laid out as in NVIDIA's container is found on
PATH and named in the header; a model whose backend the server lacks stops the run at once, with one line."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.infra.test_installation import container_layout
from tests.support import MODELS, processes_of_this_test

pytestmark = pytest.mark.e2e


def test_a_full_install_on_path_runs_the_profile_and_the_header_says_so(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    full = container_layout(tmp_path / "opt" / "tritonserver")
    monkeypatch.setenv("PATH", f"{full / 'bin'}{os.pathsep}{os.environ['PATH']}")
    (pytester.path / "profile.yaml").write_text(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models: add
concurrency: 1
triton_output_path: {tmp_path / 'server.log'}
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
""")
    result = pytester.runpytest_subprocess("--ma-config", "profile.yaml", "-p", "no:cacheprovider", timeout=180)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([f"model-analyzer: server tritonserver 2.51.0 (full install at {full}; "
                                 "backends: python)"])
    log = (tmp_path / "server.log").read_text()
    assert f"starting {full / 'bin' / 'tritonserver'}" in log  # that binary, not the bundled one
    assert (pytester.path / "checkpoints" / "0.ckpt").exists()


def test_a_model_whose_backend_the_server_lacks_stops_at_once_with_one_line(pytester: pytest.Pytester,
                                                                          tmp_path: Path) -> None:
    repo = tmp_path / "models"
    shutil.copytree(MODELS / "add", repo / "add")
    (repo / "resnet" / "1").mkdir(parents=True)
    (repo / "resnet" / "config.pbtxt").write_text('name: "resnet"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n')
    (pytester.path / "profile.yaml").write_text(f"model_repository: {repo}\nrun_config_search_disable: true\n"
                                                "profile_models: add,resnet\nconcurrency: 1\n")
    started = time.monotonic()
    result = pytester.runpytest_subprocess("--ma-config", "profile.yaml", "-p", "no:cacheprovider", timeout=60)
    assert time.monotonic() - started < 10
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr.str() + result.stdout.str()
    assert errors[0].startswith("ERROR: profile.yaml: profile_models.resnet: `resnet` needs the onnxruntime backend, "
                                "which tritonserver (bundled with nvidia-pytriton")
    assert "run in NVIDIA's Triton container" in errors[0] and "triton_launch_mode: remote" in errors[0]
    assert not processes_of_this_test()  # no server was started
