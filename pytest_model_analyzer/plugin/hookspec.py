"""The plugin's own hooks: implement them in a `conftest.py` or a plugin to observe measurements, add gates
and add report columns, without patching the plugin. Registered through `pytest_addhooks`.

Example (a `conftest.py` beside the profile)::

    from pytest_model_analyzer.reports.columns import Column

    def pytest_ma_measurement(measurement, origin, config):
        print(measurement.point_id.label, measurement.metrics["perf_throughput"])

    def pytest_ma_gates(measurement, model, config):
        if measurement.metrics.get("perf_latency_avg", 0) > 50:
            return [f"perf_latency_avg = {measurement.metrics['perf_latency_avg']:.1f} ms > 50 ms"]
        return []

    def pytest_ma_report_columns(config):
        return [Column("p50 ms", lambda m: f"{m.metrics.get('perf_latency_p50', 0):.2f}")]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_model_analyzer.config.profile import ModelSpec
    from pytest_model_analyzer.domain.measurement import Measurement
    from pytest_model_analyzer.reports.columns import Column


@pytest.hookspec
def pytest_ma_measurement(measurement: Measurement, origin: str, config: pytest.Config) -> None:
    """An item's measurement, once per item, in the process that reports the run (the xdist controller
    under `-n`). `origin` is empty when the point was measured in this run, else where its measurement
    was taken from (`0.ckpt`, `same config as add_config_1`, `model-analyzer:3.ckpt`)."""


@pytest.hookspec
def pytest_ma_gates(measurement: Measurement, model: ModelSpec, config: pytest.Config) -> list[str]:
    """Extra gates: return the violations of this measurement, one message each (an empty list when it
    passes). The item fails with them beside the model's constraints and the baseline's regressions.
    Runs in the process that runs the item (an xdist worker under `-n`)."""
    return []


@pytest.hookspec
def pytest_ma_report_columns(config: pytest.Config) -> list[Column]:
    """Extra columns for the summary tables, in the terminal and in `summary.html`: return a list of
    `pytest_model_analyzer.Column(header, cell)`, where `cell(measurement)` gives the text."""
    return []
