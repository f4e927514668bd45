"""summary.html: an A/B run's page shows both sides of every point."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.export import rankings
from pytest_model_analyzer.reports.html_report import render
from pytest_model_analyzer.search.plan import plan_profile
from tests.support import MODELS

PROFILE = f"model_repository: {MODELS}\nrun_config_search_disable: true\nprofile_models: [sleep]\nconcurrency: [1, 2]\n"


def point(load: int, throughput: float, baseline: float | None) -> Measurement:
    m = Measurement("sleep", "sleep_config_default", 1, "concurrency", load,
                    {"perf_throughput": throughput, "perf_latency_p99": 20.0 * load})
    if baseline is None:
        return m
    side = Measurement("sleep", "sleep_config_default", 1, "concurrency", load,
                       {"perf_throughput": baseline, "perf_latency_p99": 18.0 * load})
    return m.paired(side, "origin/main", "key", "AB")


def page(measurements: list[Measurement]) -> str:
    profile = plan_profile(build_profile(yaml.safe_load(PROFILE), cwd=Path.cwd()))
    return render(profile, rankings(profile, measurements), measurements, "", 0, False)


def test_an_ab_run_draws_the_baseline_dashed_beside_the_candidate_and_tabulates_the_change() -> None:
    text = page([point(1, 45.0, 50.0), point(2, 90.0, 100.0)])
    # One dashed baseline curve per plot, in the candidate's colour.
    dashed = re.findall(r'stroke="(#\w+)" stroke-width="2" stroke-dasharray="6 4" data-series="([^"]+)"', text)
    solid = re.findall(r'stroke="(#\w+)" stroke-width="2" data-series="([^"]+)"', text)
    assert [name for _, name in dashed] == ["sleep_config_default (baseline)"] * 2
    assert [name for _, name in solid] == ["sleep_config_default"] * 2 and dashed[0][0] == solid[0][0]
    assert "<th>baseline throughput (infer/sec)</th>" in text
    assert "<td>100.0</td><td>36.00</td><td>-10.0%</td>" in text
    assert "<td>50.0</td><td>18.00</td><td>-10.0%</td>" in text
    assert "the baseline version, measured beside each point in this run" in text


def test_a_point_missing_from_the_baseline_is_new_and_a_plain_run_has_no_baseline_columns() -> None:
    assert "<td></td><td></td><td>new</td>" in page([point(1, 45.0, 50.0), point(2, 90.0, None)])
    plain = page([point(1, 45.0, None), point(2, 90.0, None)])
    assert "baseline" not in plain and "stroke-dasharray" not in plain
