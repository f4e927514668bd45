"""A user's own project: the built wheel installed into a new environment outside this checkout.

The README promises that installing the plugin with its `runtime` extra, followed by
`pytest --ma-config profile.yaml` profiles the user's own models with no other step: the plugin finds the
bundled server, perf_analyzer and their libraries by itself. These tests build the wheel from the working tree,
install it into a fresh virtual environment in a temporary directory (no editable install, nothing of this
checkout's `.venv` on its path) and profile a model that only the test's own repository holds.

uv (a test dependency) builds and installs: with its cache the runtime extra's 600 MB install in seconds, where
pip took 49 s on this machine. The first run on a new machine downloads the packages once (4 s here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

MODEL_CONFIG = """\
name: "double"
backend: "python"
max_batch_size: 4
input [ { name: "X", data_type: TYPE_FP32, dims: [ 4 ] } ]
output [ { name: "Y", data_type: TYPE_FP32, dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
"""

MODEL_CODE = """\
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "X").as_numpy()
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("Y", x * 2)]))
        return responses
"""

# A user's profile: their model, two concurrencies, one constraint that the second point cannot meet.
PROFILE = """\
model_repository: models
run_config_search_disable: true
profile_models: double
concurrency: 1,64
batch_sizes: 1
constraints:
  perf_latency_p99:
    max: 8
perf_analyzer_flags:
  measurement-mode: time_windows
  measurement-interval: 200
  stability-percentage: 50
"""

# What the environment of the test's own run sets and a user's shell does not.
NOT_INHERITED = ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTHONPYCACHEPREFIX", "PYTEST_PLUGINS",
                 "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST")


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed: run `bash scripts/setup.sh` (the `test` extra installs it)")
    return found


def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _checked(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = _run(argv, cwd, timeout)
    assert done.returncode == 0, f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the working tree, built from a copy so that the build leaves nothing in the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "pytest_model_analyzer", source / "pytest_model_analyzer",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _checked([_uv(), "build", "--quiet", "--wheel", "--out-dir", str(work / "dist"), str(source)], work)
    (built,) = (work / "dist").glob("pytest_model_analyzer-*.whl")
    return built


def _environment(where: Path, requirement: str) -> Path:
    """A new virtual environment with `requirement` installed; returns its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    _checked([_uv(), "venv", "--quiet", "--python", base, str(where)], where.parent)
    python = where / "bin" / "python"
    _checked([_uv(), "pip", "install", "--quiet", "--python", str(python), requirement], where.parent)
    return python


def _user_project(root: Path) -> Path:
    model = root / "models" / "double"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(MODEL_CONFIG)
    (model / "1" / "model.py").write_text(MODEL_CODE)
    (root / "profile.yaml").write_text(PROFILE)
    return root


def test_the_wheel_with_its_runtime_extra_profiles_a_users_own_model(wheel: Path, tmp_path: Path) -> None:
    python = _environment(tmp_path / "venv", f"{wheel}[runtime]")
    project = _user_project(tmp_path / "project")

    where = _checked([str(python), "-c", "import pytest_model_analyzer; print(pytest_model_analyzer.__file__)"],
                     project).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), f"the plugin was imported from {where}"

    done = _run([str(python), "-m", "pytest", "--ma-config", "profile.yaml", "-p", "no:cacheprovider",
                 "--junitxml=junit.xml"], project, timeout=300)
    output = done.stdout + done.stderr
    # The constraint gates: concurrency 64 on one instance cannot keep p99 under 8 ms; concurrency 1 can.
    assert done.returncode == 1, output
    assert "1 failed, 1 passed" in output, output
    assert "profile.yaml::double::double_config_default::b1-c64" in output, output
    assert "FAILED profile.yaml::double::double_config_default::b1-c1" not in output, output
    checkpoint = json.loads((project / "checkpoints" / "0.ckpt").read_text())
    assert "double_config_default" in json.dumps(checkpoint), "the checkpoint holds no measurement of the model"
    assert (project / "reports" / "summary.html").is_file()
    assert (project / "results" / "metrics-model-inference.csv").read_text().count("double_config_default") == 2


def test_without_the_runtime_extra_the_error_says_what_to_install(wheel: Path, tmp_path: Path) -> None:
    python = _environment(tmp_path / "venv", str(wheel))
    project = _user_project(tmp_path / "project")

    done = _run([str(python), "-m", "pytest", "--ma-config", "profile.yaml", "-p", "no:cacheprovider"], project,
                timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "its `runtime` extra" in output and 'wheel>[runtime]"' in output, output
    assert "triton_launch_mode: remote" in output, output
    assert "Traceback" not in output, output


def test_the_client_extra_measures_a_server_it_did_not_start(wheel: Path, tmp_path: Path) -> None:
    """NVIDIA's container or a server of the user's own: the client extra brings perf_analyzer and no server.
    Here the server is this checkout's bundled one, and perf_analyzer's two libraries come from this checkout's
    runtime links, as a container provides them (its CUDA runtime and libb64)."""
    from pytest_model_analyzer.infra import runtime
    from tests.support import example_server

    python = _environment(tmp_path / "venv", f"{wheel}[client]")
    assert (python.parent / "perf_analyzer").is_file()
    assert _run([str(python), "-c", "import pytriton"], tmp_path, timeout=60).returncode != 0  # no bundled server
    project = _user_project(tmp_path / "project")
    server = example_server(tmp_path / "server.log")
    server.model_repository = project / "models"
    endpoints = server.start()
    try:
        (project / "profile.yaml").write_text(
            PROFILE.replace("concurrency: 1,64", "concurrency: 1")
            + f"triton_launch_mode: remote\ntriton_http_endpoint: {endpoints.http}\n"
              f"triton_grpc_endpoint: {endpoints.grpc}\ntriton_metrics_url: {endpoints.metrics_url}\n")
        env_libraries = {"LD_LIBRARY_PATH": runtime.prepare().library_path()}
        done = subprocess.run([str(python), "-m", "pytest", "--ma-config", "profile.yaml", "-p", "no:cacheprovider"],
                              cwd=project, capture_output=True, text=True, timeout=300, check=False,
                              env={**{k: v for k, v in os.environ.items() if k not in NOT_INHERITED},
                                   **env_libraries})
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "1 passed" in output, output


def test_the_xdist_extra_brings_the_scheduler_s_pinned_xdist(wheel: Path, tmp_path: Path) -> None:
    python = _environment(tmp_path / "venv", f"{wheel}[runtime,xdist]")
    version = _checked([str(python), "-c", "import xdist; print(xdist.__version__)"], tmp_path).stdout.strip()
    assert version.startswith("3.8."), version
    project = _user_project(tmp_path / "project")
    done = _run([str(python), "-m", "pytest", "--ma-config", "profile.yaml", "-p", "no:cacheprovider", "-n", "2",
                 "--collect-only", "-q"], project, timeout=120)
    assert done.returncode == 0 and "2 tests collected" in done.stdout + done.stderr, done.stdout + done.stderr
