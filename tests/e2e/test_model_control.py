"""Model control on the real server: a variant is warmed up after its load, before it is measured."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.infra.model_control import WARM_UP_REQUESTS, ModelControl, VariantLoadError
from tests.support import FAST_FLAGS_YAML, MODELS, example_server


def test_a_loaded_variant_has_served_warm_up_requests_before_it_is_measured(tmp_path: Path) -> None:
    server = example_server(tmp_path / "log")
    endpoints = server.start()
    try:
        control = ModelControl(endpoints.grpc)
        try:
            def served() -> int:
                # Triton counts a request once its response has gone out: a client that just got the last
                # response can read the count one short (seen once, with another test beside this one).
                deadline = time.monotonic() + 2
                count = 0
                while time.monotonic() < deadline:
                    stats = control.client.get_inference_statistics("sleep", as_json=True)["model_stats"][0]
                    count = int(stats["inference_count"])
                    if count >= WARM_UP_REQUESTS:
                        break
                    time.sleep(0.05)
                return count

            control.ensure("sleep", Variant("sleep_config_0", {"instance_group": [{"kind": "KIND_CPU", "count": 2}]}))
            assert served() == WARM_UP_REQUESTS
            control.ensure("sleep", Variant("sleep_config_0", {"instance_group": [{"kind": "KIND_CPU", "count": 2}]}))
            assert served() == WARM_UP_REQUESTS  # already loaded: no second warm-up
        finally:
            control.close()
    finally:
        server.stop()


def test_a_frozen_server_ends_a_load_within_the_configured_deadline(tmp_path: Path) -> None:
    """SIGSTOP: the server accepts connections but never answers. A variant switch gives up after the
    deadline (perf_analyzer_timeout), naming it, instead of a client's default wait."""
    server = example_server(tmp_path / "log")
    endpoints = server.start()
    try:
        control = ModelControl(endpoints.grpc, timeout=2.0)
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


ENSEMBLE = """name: "{name}"
platform: "ensemble"
max_batch_size: 8
input [ {{ name: "INPUT0", data_type: TYPE_FP32, dims: [ 16 ] }} ]
output [ {{ name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 16 ] }} ]
ensemble_scheduling {{ step [ {{ model_name: "add", model_version: -1,
  input_map {{ key: "INPUT0", value: "INPUT0" }}, output_map {{ key: "OUTPUT0", value: "OUTPUT0" }} }} ] }}
"""


@pytest.mark.parametrize("name", ["my model", "modèle_ü"])
def test_a_model_named_with_a_space_or_accents_is_measured(run_profile, tmp_path: Path, name: str,
                                                          pytester: pytest.Pytester) -> None:
    """Triton allows any directory name; the plugin must load, measure and export it (issue 14 item 9: the
    HTTP API's URL path could not carry such a name to this server; model control now speaks gRPC).

    The model is an ensemble over `add`: this server's Python backend itself cannot load a model so named
    (its stub dies on a space, `stol`, and cannot encode an accent in its paths), an ensemble needs no backend."""
    repo = tmp_path / "models"
    shutil.copytree(MODELS / "add", repo / "add")
    (repo / name / "1").mkdir(parents=True)
    (repo / name / "config.pbtxt").write_text(ENSEMBLE.format(name=name))
    run = run_profile(f"""
model_repository: {repo}
run_config_search_disable: true
profile_models:
  "{name}":
    model_config_parameters:
      max_batch_size: [4]
concurrency: 1
""" + FAST_FLAGS_YAML)
    output = run.result.stdout.str()
    assert run.result.ret == pytest.ExitCode.OK, output
    assert [item.outcome for item in run.items] == ["passed", "passed"], [item.message for item in run.items]
    assert {m["model"] for m in run.measured} == {name}
    assert {m["effective_config"]["max_batch_size"] for m in run.measured} == {8, 4}  # as the server has it
    exported = {path.name for path in (pytester.path / "output_model_repository").iterdir()}
    # The best config of the ensemble, beside the config its composing model was measured with.
    assert len(exported) == 2 and "add_config_default" in exported
    assert next(iter(exported - {"add_config_default"})).startswith(f"{name}_config_")
