"""The run state of one pytest session: the profile, every measurement, and the hooks that show them.

Measurements reach the rest of the plugin through this object only (`record`), and travel with each item's
report as a JSON `user_properties` entry, so junit XML and pytest-xdist's controller see them too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_model_analyzer import table
from pytest_model_analyzer.checkpoint import CheckpointError, CheckpointStore
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.errors import MeasurementError
from pytest_model_analyzer.gates import GateFailure, violations
from pytest_model_analyzer.interrupt import InterruptHandler
from pytest_model_analyzer.measurement import Measurement
from pytest_model_analyzer.points import count_points
from pytest_model_analyzer.regression import RegressionCheck, regressions
from pytest_model_analyzer.reports.export import export, rankings
from pytest_model_analyzer.search.driver import SearchDriver
from pytest_model_analyzer.xdist_support import WORKER_OUTPUT, is_worker, stop_requested

PROPERTY = "ma_measurement"
ORIGIN = "ma_from"  # where a reused measurement came from
PLAIN_ERRORS = (MeasurementError, GateFailure)
SESSION_KEY = pytest.StashKey["ModelAnalyzerSession"]()


@dataclass(frozen=True)
class Baseline:
    """What `--ma-compare` compares with: one checkpoint's measurements, and what counts as a regression."""

    name: str
    measurements: dict[str, Measurement]
    checks: list[RegressionCheck]


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
    def __init__(self, config: pytest.Config, profile: ProfileConfig, store: CheckpointStore | None = None,
                 imported: list[Measurement] | None = None, baseline: Baseline | None = None) -> None:
        self.config = config
        self.profile = profile
        self.store = store
        self.baseline = baseline
        self.server_only: dict[str, dict[str, float]] = {}  # idle GPU metrics per GPU, before measuring
        self.gpu_count = 0
        self.gpu_note = ""
        self.exported: list[Any] = []
        self.measurements: dict[str, Measurement] = {}  # everything this session measured, reused or imported
        self.aliases: dict[tuple[str, str], Measurement] = {}  # (variant, key): same point, another variant
        self.new: set[str] = set()  # keys of what the next checkpoint must add
        self.reused: set[str] = set()  # keys served from the checkpoint instead of measured
        self.outcomes: dict[str, str] = {}  # measurement key -> "passed" / "failed"
        self.notes: list[str] = []
        self.server_restarts = 0
        self.saved_to: Any = None
        self.save_error = ""
        self.interrupt = InterruptHandler(self._request_stop, self._abort, self._say)
        self._pytest_session: pytest.Session | None = None
        self.controller: Any = None  # xdist_support.ControllerHooks on an xdist controller
        # The search sees every measurement of this session (measured, reused or imported) and every failure.
        self.search = SearchDriver(measured=self.measurements)
        self.planned: dict[str, Measurement] = {}  # measured ahead of their item (quick's hill climb)
        self.failures: dict[str, str] = {}  # point key -> why it could not be measured
        # A comparison against a baseline measures everything again: reusing stored points would compare
        # the baseline with itself.
        self.stored: dict[str, Measurement] = dict(store.loaded) if store and baseline is None else {}
        for measurement in imported or []:
            self.stored[measurement.key()] = measurement
            self.measurements[measurement.key()] = measurement
            self.new.add(measurement.key())

    # -- recording ------------------------------------------------------------------------------
    def record(self, item: pytest.Item, measurement: Measurement, origin: str = "") -> None:
        """Keep an item's measurement; `origin` says where a measurement taken before came from."""
        point = getattr(item, "ma_point", None)
        if point is not None and measurement.variant != point.variant.name:
            # The same point under another variant name: an identical config, or Model Analyzer's naming.
            measurement = dataclasses.replace(measurement, variant=point.variant.name)
        key, _ = self._store(measurement)
        if origin:
            item.user_properties.append((ORIGIN, origin))
            if key in self.stored:
                self.reused.add(key)
        else:
            self.new.add(key)
        item.user_properties.append((PROPERTY, measurement.to_json()))

    def _store(self, measurement: Measurement) -> tuple[str, bool]:
        """One measurement per point; a second variant with the same config gets its own row in the reports.
        Returns the point's key and whether this (point, variant) was not known before."""
        key = measurement.key()
        first = self.measurements.get(key)
        if first is None or first.variant == measurement.variant:
            added = first is None
            self.measurements[key] = measurement
        else:
            added = (measurement.variant, key) not in self.aliases
            self.aliases[(measurement.variant, key)] = measurement
        return key, added

    def reported(self) -> list[Measurement]:
        """Every row of the tables: each point once per variant that measures it."""
        return [*self.measurements.values(), *self.aliases.values()]

    def taken_this_session(self, point: Any) -> Measurement | None:
        """A measurement of the same point made earlier in this run (a variant with an identical config)."""
        found = self.measurements.get(point.key())
        return found if found is not None and found.key() not in self.stored else None

    def measure_ahead(self, point: Any, backend: Any) -> Measurement | None:
        """A point the search needs before its item runs; the item reports it later."""
        stored = self.stored_measurement(point)
        if stored is not None:
            return stored
        try:
            measurement = backend.measure(point)
        except MeasurementError as exc:
            self.fail(point, str(exc))
            return None
        key, _ = self._store(measurement)
        self.new.add(key)
        self.planned[key] = measurement
        return measurement

    def fail(self, point: Any, message: str) -> None:
        self.search.failed.add(point.key())
        self.failures[point.key()] = message

    def stored_measurement(self, point: Any) -> Measurement | None:
        """The measurement of `point` from the latest checkpoint (or an import), when there is one."""
        return self.stored.get(point.key())

    def loaded_name(self) -> str:
        return self.store.loaded_from.name if self.store and self.store.loaded_from else "checkpoint"

    # -- checkpoints and Ctrl-C -----------------------------------------------------------------
    def save(self, interrupted: bool = False) -> None:
        """Write this run's checkpoint when there is anything new; errors are reported, never raised.

        Only one process writes: never an xdist worker (its measurements reach the controller in reports).
        """
        if self.store is None or not self.new or is_worker(self.config):
            return
        try:
            self.saved_to = self.store.save(self.measurements.values(), interrupted=interrupted)
            self.save_error = ""
        except CheckpointError as exc:
            self.save_error = str(exc)

    def _request_stop(self, reason: str) -> None:
        if self._pytest_session is not None:
            self._pytest_session.shouldstop = f"model-analyzer: {reason}"
        if self.controller is not None:
            self.controller.request_stop()  # xdist's controller ignores session.shouldstop: tell the workers

    def merge_worker(self, worker: str, output: dict[str, Any]) -> None:
        """What an xdist worker knew that its reports did not carry."""
        for text in output.get("notes", []):
            self.note(text)
        self.server_restarts += int(output.get("server_restarts", 0))
        self.gpu_count = max(self.gpu_count, int(output.get("gpu_count", 0)))
        self.gpu_note = self.gpu_note or output.get("gpu_note", "")
        self.server_only.update(output.get("server_only", {}))

    def _abort(self) -> None:
        self.save(interrupted=True)

    def _say(self, text: str) -> None:
        """To the real terminal: while an item runs, pytest captures sys.stdout and sys.stderr."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            InterruptHandler._stderr(text)
            return
        # As pytest's live logging does: fd capture redirects even the reporter's stream during an item.
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(f"model-analyzer: {text}", yellow=True, bold=True)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def check(self, measurement: Measurement) -> None:
        """Fail the item when its measurement violates a constraint, or regressed against the baseline."""
        model = next(m for m in self.profile.models if m.name == measurement.model)
        found = violations(measurement.metrics, model.constraints)
        if self.baseline is not None:
            before = self.baseline.measurements.get(measurement.key())
            if before is not None:
                found += [f"{text} ({self.baseline.name})" for text in
                          regressions(measurement.metrics, before.metrics, self.baseline.checks)]
        if found:
            kind = "request rate" if measurement.load_kind == "request_rate" else "concurrency"
            where = (f"{measurement.model} / {measurement.variant} "
                     f"(batch {measurement.batch_size}, {kind} {measurement.load})")
            raise GateFailure("; ".join(found) + f" [{where}]")

    # -- hooks ------------------------------------------------------------------------------------
    @pytest.hookimpl
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._pytest_session = session
        if not self.config.option.collectonly:
            self.interrupt.install()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        try:
            return (yield)
        finally:
            self.interrupt.finishing = True  # from here on a Ctrl-C must not raise

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        result = yield
        if stop_requested(self.config):
            item.session.shouldstop = "model-analyzer: stop requested by the controller (Ctrl-C)"
        point = getattr(item, "ma_point", None)
        next_point = getattr(nextitem, "ma_point", None)
        if point is not None and (next_point is None or next_point.model.name != point.model.name):
            self.save()  # after each model's items, as Model Analyzer does
        return result

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Before fixture teardown, so that a server that hangs on stop cannot cost the checkpoint."""
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or self.interrupt.count > 0
        if is_worker(self.config):
            self.config.workeroutput[WORKER_OUTPUT] = {  # type: ignore[attr-defined]
                "notes": self.notes, "server_restarts": self.server_restarts, "gpu_count": self.gpu_count,
                "gpu_note": self.gpu_note, "server_only": self.server_only}
            return
        self.save(interrupted=interrupted)
        if self.save_error and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.measurements and not self.profile["skip_summary_reports"]:
            result = export(self.profile, self.reported(), self.server_only, self.gpu_count,
                            self.gpu_note, interrupted)
            self.exported = result.written
            for text in result.notes:
                self.note(text)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.interrupt.uninstall()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.excinfo is not None and isinstance(call.excinfo.value, PLAIN_ERRORS):
            report.longrepr = PlainRepr(str(call.excinfo.value), str(item.path))
        return report

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Also runs on an xdist controller for every worker's report: that is how measurements reach it."""
        measurement = measurement_of(report)
        if measurement is None:
            return
        key = measurement.key()
        if key not in self.measurements or self.measurements[key].variant != measurement.variant:
            _, added = self._store(measurement)
            if added and not dict(report.user_properties).get(ORIGIN) and key not in self.new:
                self.new.add(key)
                if self.controller is not None:
                    self.save()  # a worker that crashes later loses nothing it reported
        if report.when == "call":
            self.outcomes[key] = report.outcome

    @pytest.hookimpl
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        points = count_points(self.profile)
        mode = self.profile["triton_launch_mode"]
        return [f"model-analyzer: {self.profile.source} ({len(self.profile.models)} models, "
                f"{points} points, {mode} server, {self.profile['client_protocol']})"]

    @pytest.hookimpl
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        """In -v, a passed item's line shows its headline figures; a failure's message already has its numbers
        (and the short summary line keeps its room for that message)."""
        if report.when != "call" or not report.passed:
            return None
        measurement = measurement_of(report)
        if measurement is None:
            return None
        figures = table.headline(measurement.metrics)
        origin = dict(report.user_properties).get(ORIGIN)
        if origin:
            figures = f"from {origin}: {figures}"
        return "passed", ".", (f"PASSED ({figures})", {"green": True})

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if is_worker(config):
            return
        for line in self.notes:
            terminalreporter.write_line(f"model-analyzer: {line}", yellow=True)
        self._summarise_checkpoint(terminalreporter)
        if self.server_restarts:
            terminalreporter.write_line(
                f"model-analyzer: the Triton server died and was restarted {self.server_restarts} time(s); "
                "the items it was serving errored", red=True)
        if not self.measurements:
            return
        terminalreporter.write_sep("-", f"model analyzer: {len(self.reported())} measurements")
        ranked = rankings(self.profile, self.reported())
        for line in table.summary_lines(self.profile, ranked, self.outcomes):
            terminalreporter.write_line(line)
        for ranking in ranked:
            if not ranking.variants:
                continue
            if ranking.best is None:
                terminalreporter.write_line(
                    f"{ranking.model}: no configuration satisfies its constraints", red=True)
            else:
                terminalreporter.write_line(f"{ranking.model}: best configuration is {ranking.best.variant}",
                                            green=True)
        if self.exported:
            terminalreporter.write_line(f"model-analyzer: reports written: {', '.join(map(str, self.exported))}")

    def _summarise_checkpoint(self, terminalreporter: Any) -> None:
        if self.save_error:
            terminalreporter.write_line(f"model-analyzer: {self.save_error}", red=True)
        elif self.saved_to is not None:
            total = len(self.stored.keys() | self.measurements.keys())
            terminalreporter.write_line(
                f"model-analyzer: saved {total} measurements ({len(self.new)} new) to {self.saved_to}")
        elif self.store is not None and self.measurements:
            where = self.store.loaded_from or "no checkpoint"
            terminalreporter.write_line(f"model-analyzer: nothing new to save (latest: {where})")
        if self.reused:
            terminalreporter.write_line(
                f"model-analyzer: {len(self.reused)} measurements taken from {self.loaded_name()}, not measured again")
