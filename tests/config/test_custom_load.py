"""A custom load (perf_analyzer's request-intervals, Model Analyzer 1.50): one point per config, named by its file."""

from __future__ import annotations

from pathlib import Path

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.points import variant_points
from pytest_model_analyzer.domain.identity import REQUEST_INTERVALS
from pytest_model_analyzer.infra.perf_analyzer import PerfAnalyzerCall
from tests.support import MODELS, ROOT

BURST = ROOT / "example_suites" / "intervals" / "burst.txt"


def test_a_stimulus_replaces_the_load_sweep_with_one_point_per_config_named_by_its_file() -> None:
    raw = {"model_repository": str(MODELS), "profile_models": "add", "run_config_search_disable": True,
           "batch_sizes": [1, 2], "perf_analyzer_flags": {"request-intervals": "intervals/burst.txt"}}
    profile = build_profile(raw, config_dir=ROOT / "example_suites", cwd=Path("/"))
    model = profile.models[0]
    assert model.load_kind == REQUEST_INTERVALS and model.stimulus == str(BURST)  # resolved against the YAML
    points = list(variant_points(model, model.variants[0]))
    assert [point.name for point in points] == ["b1-intervals-burst.txt", "b2-intervals-burst.txt"]
    assert points[0].label == "add / add_config_default (batch 1, custom load)"
    command = PerfAnalyzerCall(Path("pa"), "add", ("-u", "x"), 1, REQUEST_INTERVALS, 0,
                               model.perf_analyzer_flags).command(Path("o.csv"))
    assert f"--request-intervals={BURST}" in command
    assert not [arg for arg in command if arg.startswith(("--concurrency-range", "--request-rate-range",
                                                          "--request-intervals-digest"))]


def test_an_edited_stimulus_is_measured_again_not_reused(tmp_path: Path) -> None:
    stimulus = tmp_path / "burst.txt"
    stimulus.write_text("5000\n50000\n")

    def setup() -> object:
        raw = {"model_repository": str(MODELS), "profile_models": "add", "run_config_search_disable": True,
               "perf_analyzer_flags": {"request-intervals": str(stimulus)}}
        model = build_profile(raw, cwd=tmp_path).models[0]
        return next(iter(variant_points(model, model.variants[0]))).setup

    before = setup()
    assert setup() == before  # the same file: a stored measurement serves
    stimulus.write_text("5000\n40000\n")
    assert setup() != before
