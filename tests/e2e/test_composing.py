"""Ensembles, BLS models and models profiled together, on the real server: their example suites, searched over
the composing models' (or the models') configs at once, each model loaded with its variant's config (as the server
reports it back), every measurement recording the combination, and the best combination's configs written out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import read_junit, without_auto_complete
from tests.support import MODELS, ROOT


def run_example(pytester: pytest.Pytester, suite: str) -> tuple[pytest.RunResult, list[dict[str, Any]]]:
    """The example suite, with its server's config auto-complete off (conftest.without_auto_complete): these
    suites load a composing model per variant, and each load of a Python model with auto-complete on costs
    1.25 s more (a third of the BLS suite's run). test_examples.py runs example suites exactly as they are."""
    body = (ROOT / "example_suites" / suite).read_text()
    assert "model_repository: models\n" in body
    profile = pytester.path / suite
    if not profile.exists():
        profile.write_text(without_auto_complete(body.replace("model_repository: models\n",
                                                              f"model_repository: {MODELS}\n")))
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--ma-config", str(profile), "-p", "no:cacheprovider",
                                           f"--junitxml={junit}", timeout=300)
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK and "error" not in outcomes, result.stdout.str()
    return result, [item.measurement for item in read_junit(junit) if item.measurement]


def served(composing: dict[str, Any]) -> tuple[int, int]:
    """(instances, max_batch_size) of a composing model as the server reported it after the load."""
    config = composing["effective_config"]
    return sum(int(group.get("count", 1)) for group in config["instance_group"]), int(config["max_batch_size"])


def requested(composing: dict[str, Any]) -> tuple[int, int]:
    config = composing["config"]
    return sum(int(group.get("count", 1)) for group in config["instance_group"]), int(config["max_batch_size"])


def test_an_ensemble_is_searched_over_both_composing_models(pytester: pytest.Pytester) -> None:
    result, measured = run_example(pytester, "ensemble.yaml")
    assert measured and all([c["model"] for c in m["composing"]] == ["add", "sleep"] for m in measured)
    for m in measured:
        # The server served each composing model with the variant's config, and the ensemble with the smallest
        # of their max_batch_sizes.
        assert all(served(c) == requested(c) for c in m["composing"]), m["variant"]
        if m["variant"] != "add_sleep_config_default":
            assert m["effective_config"]["max_batch_size"] == min(requested(c)[1] for c in m["composing"])
    combinations = {tuple(c["variant"] for c in m["composing"]) for m in measured}
    assert ("add_config_default", "sleep_config_default") in combinations
    # The climb moved both composing models: more than one config of each was measured.
    assert len({add for add, _ in combinations}) > 1 and len({sleep for _, sleep in combinations}) > 1
    best = result.stdout.str().split("add_sleep: best configuration is ")[1].split()[0]
    best_measurement = next(m for m in measured if m["variant"] == best)
    written = {path.name for path in (pytester.path / "output_model_repository").iterdir()}
    assert {best, *(c["variant"] for c in best_measurement["composing"])} <= written


def test_a_bls_model_is_searched_with_the_models_it_calls(pytester: pytest.Pytester) -> None:
    first, measured = run_example(pytester, "bls.yaml")
    assert measured and all([c["model"] for c in m["composing"]] == ["sleep", "add"] for m in measured)
    for m in measured:
        # A BLS model does not load what it calls: the plugin loaded both, each with its variant's config.
        assert all(served(c) == requested(c) for c in m["composing"]), m["variant"]
        add = m["composing"][1]
        assert add["model"] == "add" and add["effective_config"]["instance_group"][0]["kind"] == "KIND_CPU"
    own_counts = {sum(g.get("count", 1) for g in m["effective_config"]["instance_group"]) for m in measured}
    assert own_counts == {1, 2}  # the BLS model's own instances are searched too
    assert len({m["composing"][0]["variant"] for m in measured}) > 1  # sleep's configs
    # A second run replays the climb from the checkpoint: the same points, none measured again.
    again, remeasured = run_example(pytester, "bls.yaml")
    assert again.parseoutcomes() == first.parseoutcomes()
    assert sorted(m["variant"] for m in remeasured) == sorted(m["variant"] for m in measured)
    assert f"{len(measured)} measurements taken from 0.ckpt, not measured again" in again.stdout.str()
    assert not (pytester.path / "checkpoints" / "1.ckpt").exists()


def test_two_models_profiled_together_are_measured_at_once_and_ranked_by_weight(pytester: pytest.Pytester) -> None:
    result, measured = run_example(pytester, "concurrent.yaml")
    assert measured and {m["model"] for m in measured} == {"add,sleep"}
    for m in measured:
        assert [c["model"] for c in m["composing"]] == ["add", "sleep"]
        assert m["variant"] == ",".join(c["variant"] for c in m["composing"])
        # Both models were loaded with the combination's configs, and each perf_analyzer measured its own model.
        assert all(served(c) == requested(c) for c in m["composing"]), m["variant"]
        metrics = m["metrics"]
        assert metrics["add/perf_throughput"] > 0 and metrics["sleep/perf_throughput"] > 0
        assert metrics["perf_throughput"] == pytest.approx(metrics["add/perf_throughput"]
                                                           + metrics["sleep/perf_throughput"])
        assert metrics["perf_latency_p99"] == max(metrics["add/perf_latency_p99"], metrics["sleep/perf_latency_p99"])
    assert len({m["variant"] for m in measured}) > 2  # the climb moved
    best = result.stdout.str().split("add,sleep: best configuration is ")[1].split()[0]
    written = {path.name for path in (pytester.path / "output_model_repository").iterdir()}
    assert written == set(best.split(","))  # each model's config, none for the combination itself
    table = (pytester.path / "results" / "metrics-model-inference.csv").read_text()
    assert '"add,sleep",1,' in table and f'"{best}"' in table
