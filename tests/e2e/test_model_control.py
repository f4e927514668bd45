"""Model control on the real server: a variant is warmed up after its load, before it is measured."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.model_control import WARM_UP_REQUESTS, ModelControl, VariantLoadError
from pytest_model_analyzer.infra.server import LocalServer
from tests.support import FAST_FLAGS_YAML, MODELS


def test_a_loaded_variant_has_served_warm_up_requests_before_it_is_measured(tmp_path: Path) -> None:
    server = LocalServer(runtime.resolve_server("tritonserver"), MODELS, runtime.prepare(), tmp_path / "log")
    endpoints = server.start()
    try:
        control = ModelControl(endpoints.http)
        try:
            control.ensure("sleep", Variant("sleep_config_0", {"instance_group": [{"kind": "KIND_CPU", "count": 2}]}))
            stats = control.client.get_inference_statistics("sleep")["model_stats"][0]
            assert int(stats["inference_count"]) == WARM_UP_REQUESTS
            control.ensure("sleep", Variant("sleep_config_0", {"instance_group": [{"kind": "KIND_CPU", "count": 2}]}))
            stats = control.client.get_inference_statistics("sleep")["model_stats"][0]
            assert int(stats["inference_count"]) == WARM_UP_REQUESTS  # already loaded: no second warm-up
        finally:
            control.close()
    finally:
        server.stop()


def test_a_frozen_server_ends_a_load_within_the_configured_deadline(tmp_path: Path) -> None:
    """SIGSTOP: the server accepts connections but never answers. A variant switch gives up after the
    deadline (perf_analyzer_timeout), naming it, instead of the HTTP client's ten minutes."""
    server = LocalServer(runtime.resolve_server("tritonserver"), MODELS, runtime.prepare(), tmp_path / "log")
    endpoints = server.start()
    try:
        control = ModelControl(endpoints.http, timeout=2.0)
        try:
            assert server.pid is not None
            os.kill(server.pid, signal.SIGSTOP)
            started = time.monotonic()
            with pytest.raises(VariantLoadError, match=r"did not answer within 2 s \(perf_analyzer_timeout\)"):
                control.ensure("add", Variant("add_config_default", {}))
            assert time.monotonic() - started < 15  # a few calls, each bounded (unload, then load)
        finally:
            control.close()
    finally:
        if server.pid is not None:
            os.kill(server.pid, signal.SIGCONT)
        server.stop()


@pytest.mark.xfail(strict=True, reason="issue 14 item 9: this tritonserver does not percent-decode model names in "
                   "its HTTP paths (`failed to load 'my%20model'`); model control must move to gRPC")
def test_a_model_named_with_a_space_is_measured(run_profile, tmp_path: Path) -> None:
    """Triton allows any directory name; the plugin must load, measure and export it."""
    name = "my model"
    repo = tmp_path / "models"
    shutil.copytree(MODELS / "add", repo / name)
    config = repo / name / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "add"', f'name: "{name}"'))
    run = run_profile(f"""
model_repository: {repo}
run_config_search_disable: true
profile_models:
  "{name}":
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: 1
""" + FAST_FLAGS_YAML)
    output = run.result.stdout.str()
    assert run.result.ret == pytest.ExitCode.OK, output
    assert [item.outcome for item in run.items] == ["passed", "passed"], [item.message for item in run.items]
    assert {m["model"] for m in run.measured} == {name}
