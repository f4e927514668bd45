"""The run state of one pytest session: the profile, every measurement, and the hooks that show them.

Measurements reach the rest of the plugin through this object only (`record`), and travel with each item's
report as a JSON `user_properties` entry, so junit XML and pytest-xdist's controller see them too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_model_analyzer import table
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.errors import MeasurementError
from pytest_model_analyzer.gates import GateFailure, violations
from pytest_model_analyzer.measurement import Measurement

PROPERTY = "ma_measurement"
PLAIN_ERRORS = (MeasurementError, GateFailure)
SESSION_KEY = pytest.StashKey["ModelAnalyzerSession"]()


@dataclass(frozen=True)
class _Crash:
    path: str
    lineno: int
    message: str


class PlainRepr:
    """A failure shown as its message alone: no traceback for errors the user did not write code for.

    `reprcrash.message` is what pytest's short summary and junit XML show; under xdist it travels as text.
    """

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.reprcrash = _Crash(path, 0, text.splitlines()[0] if text else "")

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=True)

    def __str__(self) -> str:
        return self.text


def measurement_of(report: pytest.TestReport) -> Measurement | None:
    for name, value in getattr(report, "user_properties", ()):
        if name == PROPERTY:
            return Measurement.from_dict(json.loads(value))
    return None


class ModelAnalyzerSession:
    def __init__(self, config: pytest.Config, profile: ProfileConfig) -> None:
        self.config = config
        self.profile = profile
        self.measurements: dict[str, Measurement] = {}
        self.outcomes: dict[str, str] = {}  # measurement key -> "passed" / "failed"
        self.notes: list[str] = []
        self.server_restarts = 0

    # -- recording ------------------------------------------------------------------------------
    def record(self, item: pytest.Item, measurement: Measurement) -> None:
        self.measurements[measurement.key()] = measurement
        item.user_properties.append((PROPERTY, measurement.to_json()))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def check(self, measurement: Measurement) -> None:
        """Fail the item when its measurement violates a constraint of its model."""
        model = next(m for m in self.profile.models if m.name == measurement.model)
        found = violations(measurement.metrics, model.constraints)
        if found:
            kind = "request rate" if measurement.load_kind == "request_rate" else "concurrency"
            where = (f"{measurement.model} / {measurement.variant} "
                     f"(batch {measurement.batch_size}, {kind} {measurement.load})")
            raise GateFailure("; ".join(found) + f" [{where}]")

    # -- hooks ------------------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.excinfo is not None and isinstance(call.excinfo.value, PLAIN_ERRORS):
            report.longrepr = PlainRepr(str(call.excinfo.value), str(item.path))
        return report

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        measurement = measurement_of(report)
        if measurement is not None:
            key = measurement.key()
            self.measurements.setdefault(key, measurement)
            self.outcomes[key] = report.outcome

    @pytest.hookimpl
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        points = sum(len(m.variants) * len(m.batch_sizes) * len(m.load_values) for m in self.profile.models)
        mode = self.profile["triton_launch_mode"]
        return [f"model-analyzer: {self.profile.source} ({len(self.profile.models)} models, "
                f"{points} points, {mode} server, {self.profile['client_protocol']})"]

    @pytest.hookimpl
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """In -v, a measured item's line shows its headline figures next to PASSED/FAILED."""
        if report.when != "call" or report.outcome == "skipped":
            return None
        measurement = measurement_of(report)
        if measurement is None:
            return None
        figures = table.headline(measurement.metrics)
        if report.passed:
            return "passed", ".", (f"PASSED ({figures})", {"green": True})
        return "failed", "F", (f"FAILED ({figures})", {"red": True})

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if hasattr(config, "workerinput"):
            return
        for line in self.notes:
            terminalreporter.write_line(f"model-analyzer: {line}", yellow=True)
        if self.server_restarts:
            terminalreporter.write_line(
                f"model-analyzer: the Triton server died and was restarted {self.server_restarts} time(s); "
                "the items it was serving errored", red=True)
        if not self.measurements:
            return
        terminalreporter.write_sep("-", f"model analyzer: {len(self.measurements)} measurements")
        for line in table.summary_lines(self.profile, list(self.measurements.values()), self.outcomes):
            terminalreporter.write_line(line)
