"""Automatic configuration search on the real server with the `sleep` model."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support import MODELS

pytestmark = pytest.mark.e2e

SPACE = f"""
model_repository: {MODELS}
profile_models: sleep
run_config_search_max_instance_count: 2
run_config_search_max_model_batch_size: 4
run_config_search_max_concurrency: 32
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 150, stability-percentage: 30}}
"""


def best_variant(run) -> dict:
    passed = [item.measurement for item in run.items if item.outcome == "passed"]
    return max(passed, key=lambda m: m["metrics"]["perf_throughput"])


def test_brute_finds_instances_and_batching_and_stops_on_the_plateau(run_profile, pytester: pytest.Pytester) -> None:
    run = run_profile(SPACE)
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert len(run.items) == 7 * 6  # default + 2 instance counts x 3 max_batch_sizes, x 6 concurrencies
    # A single instance without batching saturates at about 50 infer/s from concurrency 1 or 2 on: its sweep
    # reaches four flat points before 32 whatever the first, colder measurement gives.
    best = best_variant(run)
    assert best["config"]["instance_group"][0]["count"] == 2
    assert int(best["config"]["max_batch_size"]) > 1 and "dynamic_batching" in best["config"]
    skipped = [item for item in run.items if item.outcome == "skipped"]
    assert skipped and all("early exit" in item.message for item in skipped)
    assert any("the last 4 loads gained" in item.message for item in skipped)
    run.result.stdout.fnmatch_lines([f"sleep: best configuration is {best['variant']}"])

    # A resumed run measures nothing again and makes the same decisions.
    again = run_profile(SPACE)
    assert again.result.ret == pytest.ExitCode.OK
    assert [item.outcome for item in again.items] == [item.outcome for item in run.items]
    assert all(item.properties.get("ma_from") == "0.ckpt" for item in again.items if item.outcome == "passed")
    assert sorted(p.name for p in (pytester.path / "checkpoints").iterdir()) == ["0.ckpt"]


def test_quick_climbs_to_the_same_kind_of_best_with_fewer_measurements(run_profile) -> None:
    run = run_profile(SPACE + "run_config_search_mode: quick\nnum_configs_per_model: 2\n")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    measured = [item for item in run.items if item.outcome == "passed"]
    # The hill climb's points at their formula load, then the load sweeps of the top 2 and of the default
    # (Model Analyzer's ConcurrencySweeper): no other configuration has more than one point measured.
    loads = Counter(item.variant for item in measured)
    swept = {variant for variant, count in loads.items() if count > 1}
    assert "sleep_config_default" in swept and len(swept) <= 3
    assert len(measured) < 0.6 * len(run.items)
    best = best_variant(run)
    assert best["config"]["instance_group"][0]["count"] == 2 and int(best["config"]["max_batch_size"]) > 1
    reasons = {item.message.strip() for item in run.items if item.outcome == "skipped"}
    assert any("did not visit" in reason or "not among the top 2" in reason for reason in reasons)


def test_optuna_scores_trials_against_the_default_sweeps_the_best_and_replays_on_resume(
        run_profile, pytester: pytest.Pytester) -> None:
    body = SPACE + ("run_config_search_mode: optuna\noptuna_min_trials: 3\noptuna_max_trials: 6\n"
                    "num_configs_per_model: 1\n")
    run = run_profile(body)
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert len(run.items) == 7 * 6  # the default's formula load (2 x 8 x 1 = 16) is one of the sweep's loads
    measured = [item for item in run.items if item.outcome == "passed"]
    # The default at its formula load, at most 6 trials, then the load sweeps of the best and the default.
    assert [item.outcome for item in run.by_name("sleep_config_default::b1-c16")] == ["passed"]
    assert len(measured) <= 1 + 6 + 2 * 6 and len(measured) < len(run.items) / 2
    reasons = {item.message.strip() for item in run.items if item.outcome == "skipped"}
    assert reasons and all(reason.startswith(("optuna search:", "early exit:")) for reason in reasons)
    assert any("trials chose this configuration" in reason for reason in reasons)

    # A resumed run scores the same trials from the checkpoint, so it asks for the same points: none is new.
    again = run_profile(body)
    assert again.result.ret == pytest.ExitCode.OK
    assert [item.outcome for item in again.items] == [item.outcome for item in run.items]
    assert all(item.properties.get("ma_from") == "0.ckpt" for item in again.items if item.outcome == "passed")
    assert sorted(p.name for p in (pytester.path / "checkpoints").iterdir()) == ["0.ckpt"]


def test_brute_bisects_the_load_at_the_latency_bound(run_profile, pytester: pytest.Pytester) -> None:
    """Model Analyzer's binary search after brute: where a configuration's load sweep crosses a constraint,
    the load is bisected between the last passing and the first failing value. One `sleep` instance without
    batching adds about 20 ms of p99 per concurrent request, so a 110 ms bound is crossed between 4 and 8.
    What is checked is the rule, applied to whatever this machine measured."""
    from pytest_model_analyzer.search.binary import boundary, step_loads

    body = f"""
model_repository: {MODELS}
profile_models: sleep
run_config_search_max_instance_count: 1
run_config_search_max_model_batch_size: 1
run_config_search_max_concurrency: 16
run_config_search_max_binary_search_steps: 3
constraints: {{perf_latency_p99: {{max: 110}}}}
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 30}}
"""
    run = run_profile(body)
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED, run.result.stdout.str()  # the loads over the bound
    searched = 0
    for variant in ("sleep_config_default", "sleep_config_0"):
        sweep = [(item.measurement["load"], item.outcome == "passed") for item in run.items
                 if f".{variant}::" in item.nodeid + "::" and item.measurement]
        steps = [item for item in run.items if item.nodeid.endswith(tuple(f"::{variant}-b1-s{n}" for n in (1, 2, 3)))]
        assert len(steps) == 3, [item.nodeid for item in run.items]
        bounds = boundary(sorted(sweep))
        assert bounds is not None, sweep  # one instance cannot keep p99 under 110 ms at concurrency 8
        measured = {item.measurement["load"]: item.outcome == "passed" for item in steps if item.measurement}
        expected = step_loads(bounds, measured, 3)
        assert sorted(measured) == sorted(expected) and expected, (bounds, measured)
        assert all(bounds[0] < load < bounds[1] for load in measured)
        for item in steps[len(expected):]:
            assert item.outcome == "skipped" and "binary search: converged" in item.message
        searched += len(measured)
    # The loads it found are ordinary points: in the checkpoint, under their own names.
    import json

    saved = json.loads((pytester.path / "checkpoints" / "0.ckpt").read_text())["measurements"]
    assert sum(m["load"] not in (1, 2, 4, 8, 16) for m in saved) == searched
    # Resumed, the search takes the same steps from the checkpoint and measures nothing.
    again = run_profile(body)
    again.result.stdout.fnmatch_lines(["*nothing new to save*"])
    assert [(i.nodeid, i.outcome, i.measurement and i.measurement["load"]) for i in again.items] == [
        (i.nodeid, i.outcome, i.measurement and i.measurement["load"]) for i in run.items]
