"""Remote launch mode: measure against a server someone else started; never start or stop it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.model_control import ModelControl
from pytest_model_analyzer.infra.server import LocalServer, free_port
from tests.support import FAST_FLAGS_YAML, MODELS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running_server(tmp_path_factory: pytest.TempPathFactory):
    rt = runtime.prepare()
    server = LocalServer(runtime.resolve_server("tritonserver"), MODELS, rt,
                         tmp_path_factory.mktemp("remote") / "server.log")
    endpoints = server.start()
    control = ModelControl(endpoints.http)
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
    control = ModelControl(running_server.endpoints.http)
    config = control.config("add")
    control.client.load_model("add", config=json.dumps({**config, "instance_group": [{"count": 3,
                                                                                      "kind": "KIND_CPU"}]}))
    control.close()
    run = run_profile(profile(running_server))
    default = next(item for item in run.items if item.variant == "add_config_default")
    assert default.measurement["effective_config"]["instance_group"][0]["count"] == 1
