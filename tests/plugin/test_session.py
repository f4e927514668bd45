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
