"""The summary tables' columns: a combination of models profiled together shows each model's figures."""

from __future__ import annotations

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.columns import summary_columns


def cells(m: Measurement) -> dict[str, str]:
    return {column.header: column.cell(m) for column in summary_columns("concurrency")}


def test_models_profiled_together_show_each_models_figures_in_order() -> None:
    composing = [{"model": "sleep", "variant": "sleep_config_1", "config": {"max_batch_size": 4,
                                                                          "instance_group": [{"count": 2}]}},
                 {"model": "add", "variant": "add_config_0", "config": {"max_batch_size": 1}}]
    metrics = {"perf_throughput": 2500.0, "perf_latency_p99": 40.0, "sleep/perf_throughput": 100.0,
               "sleep/perf_latency_p99": 40.0, "add/perf_throughput": 2400.0, "add/perf_latency_p99": 1.5}
    m = Measurement("sleep,add", "sleep_config_1,add_config_0", 1, "concurrency", 4, metrics, composing=composing)
    row = cells(m)
    assert row["infer/s"] == "100.0, 2400.0" and row["p99 ms"] == "40.00, 1.50"
    assert row["instances"] == "2:CPU, 1:CPU" and row["max batch"] == "4, 1"


def test_an_ensemble_shows_its_own_figures_and_its_composing_models_configs() -> None:
    composing = [{"model": "add", "variant": "add_config_0", "config": {"max_batch_size": 2}}]
    m = Measurement("ens", "ens_config_0", 1, "concurrency", 4, {"perf_throughput": 80.0},
                    config={"platform": "ensemble", "max_batch_size": 2}, composing=composing)
    row = cells(m)
    assert row["infer/s"] == "80.0" and row["instances"] == "1:CPU" and row["max batch"] == "2"
