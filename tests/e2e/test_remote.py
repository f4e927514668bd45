"""Remote launch mode: measure against a server someone else started; never start or stop it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pytest_model_analyzer.infra.model_control import ModelControl
from pytest_model_analyzer.infra.server import LocalServer, free_port
from tests.support import FAST_FLAGS_YAML, example_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running_server(tmp_path_factory: pytest.TempPathFactory):
    server = example_server(tmp_path_factory.mktemp("remote") / "server.log")
    endpoints = server.start()
    control = ModelControl(endpoints.grpc)
    control.client.load_model("add")
    yield server
    control.close()
    server.stop()


def profile(server: LocalServer, extra: str = "") -> str:
    endpoints = server.endpoints
    return f"""
triton_launch_mode: remote
triton_http_endpoint: {endpoints.http}
triton_grpc_endpoint: {endpoints.grpc}
triton_metrics_url: {endpoints.metrics_url}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: 1
""" + FAST_FLAGS_YAML + extra


def test_remote_server_is_measured_and_left_running(run_profile, running_server: LocalServer) -> None:
    run = run_profile(profile(running_server))
    assert run.result.ret == 0, run.result.stdout.str()
    assert [item.variant for item in run.items if item.outcome == "passed"] == ["add_config_default", "add_config_0"]
    assert running_server.alive()


def test_reload_disabled_measures_only_the_loaded_config(run_profile, running_server: LocalServer) -> None:
    run = run_profile(profile(running_server, "reload_model_disable: true\n"))
    outcomes = {item.variant: item for item in run.items}
    assert outcomes["add_config_default"].outcome == "passed"
    assert outcomes["add_config_0"].outcome == "skipped"
    assert "reload_model_disable" in outcomes["add_config_0"].message
    assert running_server.alive()


def test_unreachable_remote_server_is_a_clear_error(run_profile, tmp_path: Path) -> None:
    port = free_port()
    run = run_profile(f"""
triton_launch_mode: remote
triton_http_endpoint: 127.0.0.1:{port}
triton_grpc_endpoint: 127.0.0.1:{port}
profile_models: add
concurrency: 1
""")
    assert run.result.ret == 1
    run.result.stdout.fnmatch_lines([f"*the remote Triton server at http://127.0.0.1:{port} does not answer*"])


def test_an_override_left_on_the_server_is_not_taken_for_the_default(run_profile, running_server: LocalServer) -> None:
    # Someone (another tool, an earlier run) left `add` loaded with 3 instances: a plain load would keep that.
    control = ModelControl(running_server.endpoints.grpc)
    config = control.config("add")
    control.client.load_model("add", config=json.dumps({**config, "instance_group": [{"count": 3,
                                                                                      "kind": "KIND_CPU"}]}))
    control.close()
    run = run_profile(profile(running_server))
    default = next(item for item in run.items if item.variant == "add_config_default")
    assert default.measurement["effective_config"]["instance_group"][0]["count"] == 1


RECORDED_GPU_METRICS = (Path(__file__).parent.parent / "infra" / "triton_gpu_metrics.prom").read_text()
GPU_FAMILIES = ("nv_gpu_", "nv_energy_consumption")


def without_gpu_gauges(text: str) -> str:
    """A metrics text without its per-GPU families (samples, HELP and TYPE lines)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if not line.removeprefix("# HELP ").removeprefix("# TYPE ").startswith(GPU_FAMILIES))


@pytest.fixture
def metrics_with_gpus(running_server: LocalServer) -> Iterator[str]:
    """A metrics endpoint for the real server with recorded GPU gauges in place of its own: what a server with
    those two GPUs reports, on any machine. The CPU gauges are the real server's, read through on each request;
    on a GPU host its own GPU's gauges are dropped (tests/e2e/test_gpu.py checks those), so that the GPUs are
    exactly the recorded ones."""
    real = running_server.endpoints.metrics_url

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with urllib.request.urlopen(real, timeout=5) as response:
                body = (without_gpu_gauges(response.read().decode()) + RECORDED_GPU_METRICS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()
    thread.join()


def test_a_remote_servers_gpu_metrics_come_from_its_metrics_endpoint(run_profile, running_server: LocalServer,
                                                                     metrics_with_gpus: str,
                                                                     pytester: pytest.Pytester) -> None:
    """The GPUs of a remote server are not this machine's: their figures are the server's `nv_gpu_*` gauges at
    `triton_metrics_url`, per GPU, in every measurement and in the GPU table."""
    body = profile(running_server).replace(f"triton_metrics_url: {running_server.endpoints.metrics_url}",
                                           f"triton_metrics_url: {metrics_with_gpus}")
    run = run_profile(body, "-s")
    assert run.result.ret == 0, run.result.stdout.str()
    uuids = ["GPU-312be29d-d937-fa49-8948-c73f3c3193cf", "GPU-e35ba3d2-6eef-2bb9-e35c-6ef6eada4f11"]
    run.result.stdout.fnmatch_lines([f"*GPU metrics from the server's metrics at {metrics_with_gpus}: "
                                     f"0: GPU of the remote server ({uuids[0]}), 1: *({uuids[1]})*"])
    assert len(run.measured) == 2
    for measurement in run.measured:
        assert sorted(measurement["gpu_metrics"]) == uuids
        assert measurement["gpu_metrics"][uuids[0]]["gpu_utilization"] == pytest.approx(43.0)
        assert measurement["gpu_metrics"][uuids[1]]["gpu_power_usage"] == pytest.approx(71.94)
        # Across GPUs memory is summed, the rest averaged; the CPU gauges are the real server's.
        assert measurement["metrics"]["gpu_used_memory"] == pytest.approx(1082.130432 + 503.31648)
        assert measurement["metrics"]["gpu_power_usage"] == pytest.approx((118.512 + 71.94) / 2)
        assert "cpu_utilization" in measurement["metrics"]
    table = (pytester.path / "results" / "metrics-model-gpu.csv").read_text()
    assert all(uuid in table for uuid in uuids)


def test_a_remote_server_frozen_mid_run_ends_it_within_its_deadlines(tmp_path: Path) -> None:
    """SIGSTOP after the first point: the server accepts connections and never answers again (issue 14
    item 2). Every call to it (perf_analyzer, loads, health checks) has the profile's deadline, so the rest of
    the run ends in a time the profile sets, and each item says which deadline it hit."""
    from tests.e2e.test_interrupt import finish, start, wait_for_passes

    server = example_server(tmp_path / "server.log")
    endpoints = server.start()
    assert server.pid is not None
    profile = tmp_path / "frozen.yaml"
    profile.write_text(f"""
triton_launch_mode: remote
triton_http_endpoint: {endpoints.http}
triton_grpc_endpoint: {endpoints.grpc}
triton_metrics_url: {endpoints.metrics_url}
perf_analyzer_timeout: 3
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: [1, 2]
""" + FAST_FLAGS_YAML)
    process = start(tmp_path, profile)
    lines: list[str] = []
    try:
        wait_for_passes(process, 1, lines)
        os.kill(server.pid, signal.SIGSTOP)
        frozen = time.monotonic()
        output = finish(process, lines)
        elapsed = time.monotonic() - frozen
    finally:
        os.kill(server.pid, signal.SIGCONT)
        process.kill()
        server.stop()
    assert process.returncode != 0, output
    assert output.count("PASSED") == 1, output
    assert "stopped answering (no answer from v2/health/live within 2 s); a remote server is not restarted" in output
    assert elapsed < 60, (elapsed, output)
