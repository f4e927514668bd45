"""The run's hooks: when to save, what a failure looks like, how reports feed the ledger, the end of the run.

* after each model's last item, at the end of the session (before fixture teardown) and on Ctrl-C the
  checkpoint is saved; on an xdist controller also on every report that brings a new measurement;
* an item's setup report carries its measurement: the controller feeds it to the ledger, and every
  reporting process calls `pytest_ma_measurement` once per item;
* the plugin's own errors (measurement, gate) are shown as their message, without a traceback;
* at the end: rankings once, reports written, and under xdist each worker's facts sent to the controller.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.domain.errors import GateFailure, MeasurementError
from pytest_model_analyzer.plugin.distributed import WORKER_OUTPUT, is_worker, stop_requested
from pytest_model_analyzer.plugin.fixtures import EARLY_SERVER, start_server_early
from pytest_model_analyzer.plugin.session import INCONCLUSIVE, ORIGIN, ModelAnalyzerSession, measurement_of, property_of
from pytest_model_analyzer.reports.export import export, rankings

if TYPE_CHECKING:
    from _pytest._io import TerminalWriter

    from pytest_model_analyzer.plugin.distributed import ControllerHooks

PLAIN_ERRORS = (MeasurementError, GateFailure)


class _Crash:
    def __init__(self, path: str, lineno: int, message: str) -> None:
        self.path, self.lineno, self.message = path, lineno, message


class PlainRepr:
    """A failure shown as its message alone: no traceback for errors the user did not write code for.

    `reprcrash.message` is what pytest's short summary and junit XML show; under xdist it travels as text.
    """

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.reprcrash = _Crash(path, 0, text.splitlines()[0] if text else "")

    def toterminal(self, tw: TerminalWriter) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=True)

    def __str__(self) -> str:
        return self.text


class RunHooks:
    def __init__(self, session: ModelAnalyzerSession, controller: ControllerHooks | None = None) -> None:
        self.session = session
        self.controller = controller

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        start_server_early(session)

    @pytest.hookimpl
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """After the session fixtures' teardown: a server started early that no item took is stopped here."""
        early = config.stash.get(EARLY_SERVER, None)
        if early is not None:
            early.discard()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item,
                                nextitem: pytest.Item | None) -> Generator[None, object, object]:
        result = yield
        if stop_requested(item.config):
            item.session.shouldstop = "model-analyzer: stop requested by the controller (Ctrl-C)"
        model = getattr(item, "ma_model", None)
        next_model = getattr(nextitem, "ma_model", None)
        if model is not None and (next_model is None or next_model.name != model.name):
            self.session.keeper.save()  # after each model's items, as Model Analyzer does
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.excinfo is not None and isinstance(call.excinfo.value, PLAIN_ERRORS):
            report.longrepr = PlainRepr(str(call.excinfo.value), str(item.path))  # type: ignore[assignment]
        return report

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Also runs on an xdist controller for every worker's report: that is how measurements reach it."""
        if is_worker(self.session.config):
            return
        measurement = measurement_of(report)
        if measurement is None:
            return
        if report.when not in ("setup", "call"):
            return
        origin = property_of(report, ORIGIN)
        # Setup reports the first trial (saved at once under xdist); call, the measurement after the gate
        # check, with any trials the check took.
        if self.controller is not None and self.session.ledger.observe(measurement, origin):
            self.session.keeper.save()  # a worker that crashes later loses nothing it reported
        if report.when == "call":
            self.session.outcomes[measurement.point_id] = (
                "inconclusive" if report.passed and property_of(report, INCONCLUSIVE) else report.outcome)
            self.session.config.hook.pytest_ma_measurement(measurement=measurement, origin=origin,
                                                           config=self.session.config)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The points that will run, after -k and other deselection: what a variant measures ahead."""
        self.session.ledger.selected = {item.ma_point.id for item in items if hasattr(item, "ma_point")}

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Before fixture teardown, so that a server that hangs on stop cannot cost the checkpoint."""
        state = self.session
        if is_worker(state.config):
            state.config.workeroutput[WORKER_OUTPUT] = state.facts.as_worker_output()  # type: ignore[attr-defined]
            return
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED or state.interrupt.count > 0
        state.keeper.save(interrupted=interrupted, final=True)
        if state.keeper.error and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        rows = state.ledger.rows()
        if not rows:
            return
        state.rankings = rankings(state.profile, rows)
        state.columns = [column for found in state.config.hook.pytest_ma_report_columns(config=state.config)
                         for column in found]
        if not state.profile["skip_summary_reports"]:
            result = export(state.profile, state.rankings, rows, state.facts.server_only, state.facts.gpu_count,
                            state.facts.gpu_note, interrupted, state.columns)
            state.exported = result.written
            for text in result.notes:
                state.facts.note(text)
