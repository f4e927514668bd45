"""Inside a process a measurement stays an object; JSON only where a report leaves it (junit, xdist)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.plugin.session import (
    MEASUREMENT_KEY,
    PROPERTY,
    ReportedObjects,
    reported_measurement,
    set_measurement,
)


def _measurement() -> Measurement:
    return Measurement("add", "add_config_default", 1, "concurrency", 2, {"perf_throughput": 1234.5})


def _item() -> Any:
    return SimpleNamespace(stash=pytest.Stash(), user_properties=[])


def test_an_item_of_this_process_hands_its_report_the_measurement_itself() -> None:
    item, measurement, here = _item(), _measurement(), ReportedObjects()
    set_measurement(item, measurement)
    assert item.stash[MEASUREMENT_KEY] is measurement
    report = SimpleNamespace(nodeid="profile.yaml::add::add_config_default::b1-c2", when="setup",
                             user_properties=item.user_properties)
    here.take(item, report)
    assert reported_measurement(report, here) is measurement  # not a copy read back from JSON


def test_a_report_from_another_process_is_read_from_its_json_property() -> None:
    measurement = _measurement()
    report = SimpleNamespace(nodeid="profile.yaml::add::add_config_default::b1-c2", when="call",
                             user_properties=[(PROPERTY, measurement.to_json())])
    read = reported_measurement(report, ReportedObjects())
    assert read == measurement and read is not measurement
    assert reported_measurement(SimpleNamespace(nodeid="x", when="call", user_properties=[]), None) is None


def test_the_job_summary_quotes_a_workers_failure_without_its_worker_line() -> None:
    """Under xdist pytest puts `[gw0] linux -- Python ...` before a worker's failure; the summary's table of
    failed gates shows the message alone."""
    from pytest_model_analyzer.plugin.lifecycle import failure_text

    message = "time_to_first_token_p99 = 152.9 ms > max 100 ms [llm_vllm / llm_vllm_config_default (batch 1)]"
    report = pytest.TestReport("p.yaml::m::v::b1-c2", ("p.yaml", 0, "b1-c2"), {}, "failed", message, "call")
    # A report that came from a worker carries its node; pytest's rendering of the report puts its line first.
    report.node = SimpleNamespace(_workerinfocache="[gw1] linux -- Python 3.11.7 /venv/bin/python")  # type: ignore[attr-defined]
    assert report.longreprtext.startswith("[gw1] linux -- Python")
    assert failure_text(report) == message
    assert failure_text(pytest.TestReport("x", ("p.yaml", 0, "x"), {}, "failed", message, "call")) == message
