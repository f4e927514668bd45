"""The run's typed settings: what every layer above `config/` reads of a profile, and nothing by string."""

from __future__ import annotations

from pathlib import Path

import yaml

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.options import OPTIONS
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.config.run_settings import RunSettings
from pytest_model_analyzer.config.search_settings import SearchRanges
from tests.support import MODELS


def profile(text: str, directory: Path, cli: dict[str, object] | None = None) -> ProfileConfig:
    return build_profile(yaml.safe_load(f"model_repository: {MODELS}\nprofile_models: add\n" + text), cli,
                         config_dir=directory, cwd=directory)


def test_every_typed_setting_is_an_option_of_the_table() -> None:
    assert RunSettings.keys() <= set(OPTIONS)


def test_a_profile_offers_no_access_by_option_name() -> None:
    """The resolved option values stay in config/: a reader outside it uses a typed field (mypy checks each)."""
    assert not hasattr(ProfileConfig, "__getitem__")
    assert "settings" not in ProfileConfig.__dataclass_fields__


def test_defaults_are_model_analyzers_with_paths_resolved(tmp_path: Path) -> None:
    run = profile("", tmp_path).run
    assert run.model_repository == MODELS
    assert run.checkpoint_directory == tmp_path / "checkpoints" and run.export_path == tmp_path
    assert run.output_model_repository_path == tmp_path / "output_model_repository"
    assert (run.triton_launch_mode, run.client_protocol, run.perf_analyzer_timeout) == ("local", "grpc", 600)
    assert run.gpus == ("all",) and run.monitoring_interval == 1.0 and run.duration_seconds == 3
    assert run.triton_output_path is None and run.perf_output_path is None
    assert run.inference_output_fields[:2] == ("model_name", "batch_size")
    assert run.report_model_configs == ()


def test_the_command_line_wins_over_the_yaml_and_resolves_against_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "yaml").mkdir()
    run = profile("export_path: out\nperf_analyzer_timeout: 30\nmonitoring_interval: 2\n", tmp_path / "yaml",
                  cli={"perf_analyzer_timeout": "45"}).run
    assert run.export_path == tmp_path / "yaml" / "out"
    assert run.perf_analyzer_timeout == 45 and run.monitoring_interval == 2.0
    assert isinstance(run.monitoring_interval, float)


def test_remote_endpoints_one_per_worker_slot(tmp_path: Path) -> None:
    single = profile("triton_launch_mode: remote\ntriton_grpc_endpoint: h:1\ntriton_http_endpoint: h:2\n",
                     tmp_path)
    assert single.remote_endpoints(None) == ("h:2", "h:1", "http://localhost:8002/metrics")
    fleet = profile("triton_launch_mode: remote\ntriton_grpc_endpoints: a:1,b:1\ntriton_http_endpoints: a:2,b:2\n",
                    tmp_path)
    assert fleet.run.triton_grpc_endpoints == ("a:1", "b:1")
    assert fleet.remote_endpoints(1) == ("b:2", "b:1", "") and fleet.remote_endpoints(None)[1] == "a:1"


def test_search_ranges_keep_only_the_concurrency_bounds_the_user_set(tmp_path: Path) -> None:
    assert profile("", tmp_path).search_ranges == SearchRanges()
    ranges = profile("run_config_search_max_instance_count: 3\nrun_config_search_min_model_batch_size: 4\n"
                     "run_config_search_max_concurrency: 64\n", tmp_path).search_ranges
    assert ranges == SearchRanges(instance_counts=(1, 3), model_batch_sizes=(4, 128),
                                  quick_concurrency_bounds=(None, 64))
