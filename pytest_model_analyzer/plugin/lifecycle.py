"""The run's hooks: when to save, what a failure looks like, how reports feed the ledger, the end of the run.

* after each model's last item, at the end of the session (before fixture teardown) and on Ctrl-C the
  checkpoint is saved; on an xdist controller also on every report that brings a new measurement;
* an item's setup report carries its measurement: the controller feeds it to the ledger, and every
  reporting process calls `pytest_ma_measurement` once per item;
* the plugin's own errors (measurement, gate) are shown as their message, without a traceback;
* at the end: rankings once, reports written, and under xdist each worker's facts sent to the controller.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.analysis.item_verdict import GateRecord
from pytest_model_analyzer.config.points import count_points
from pytest_model_analyzer.domain.errors import GateFailure, MeasurementError
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.outcome import GateOutcome, NoteKind
from pytest_model_analyzer.plugin.fixtures import EARLY_SERVER, start_server_early
from pytest_model_analyzer.plugin.session import (
    INCONCLUSIVE,
    ORIGIN,
    ModelAnalyzerSession,
    comparison_of,
    property_of,
    reported_measurement,
)
from pytest_model_analyzer.plugin.xdist.workers import WORKER_OUTPUT, is_worker, stop_requested
from pytest_model_analyzer.reports.adopt import drift_findings
from pytest_model_analyzer.reports.export import export, rankings
from pytest_model_analyzer.reports.layout import OutputLayout
from pytest_model_analyzer.reports.markdown import RunSummary, render, write_summary

if TYPE_CHECKING:
    from _pytest._io import TerminalWriter

    from pytest_model_analyzer.plugin.xdist.workers import ControllerHooks

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


def failure_text(report: pytest.TestReport) -> str:
    """A failed item's message as the job summary shows it: its failure itself. (`longreprtext` renders the
    whole report, and for one that came from an xdist worker pytest puts `[gw0] linux -- Python ...` first.)"""
    return str(report.longrepr).strip() if report.longrepr is not None else ""


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
        self.session.reported.take(item, report)
        if call.excinfo is not None and isinstance(call.excinfo.value, PLAIN_ERRORS):
            report.longrepr = PlainRepr(str(call.excinfo.value), str(item.path))  # type: ignore[assignment]
        return report

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Also runs on an xdist controller for every worker's report: that is how measurements reach it."""
        if is_worker(self.session.config):
            return
        measurement = reported_measurement(report, self.session.reported)
        if measurement is None or report.when not in ("setup", "call"):
            return
        origin = property_of(report, ORIGIN)
        # Setup reports the first trial (saved at once under xdist); call, the measurement after the gate
        # check, with any trials the check took.
        if self.controller is not None and self.session.ledger.observe(measurement, reused=bool(origin)):
            self.session.keeper.save()  # a worker that crashes later loses nothing it reported
        if report.when == "call":
            self.session.gates[measurement.point_id] = GateRecord(
                GateOutcome.INCONCLUSIVE if report.passed and property_of(report, INCONCLUSIVE)
                else GateOutcome(report.outcome),
                comparison_of(report, self.session.reported),
                failure_text(report)[:2000] if report.failed else "")
            self.session.config.hook.pytest_ma_measurement(measurement=measurement, origin=origin,
                                                           config=self.session.config)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The points that will run, after -k and other deselection: what a variant measures ahead."""
        self.session.resolver.selected = {item.ma_point.id for item in items if hasattr(item, "ma_point")}

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
        if not state.profile.run.skip_summary_reports:
            result = export(state.profile, state.rankings, rows, state.facts.server_only, state.facts.gpu_count,
                            state.facts.gpu_note, interrupted, state.columns, coverage(state, rows))
            state.exported = result.written
            for text in result.notes:
                state.facts.note(text)
            for text in result.findings:
                state.facts.note(text, NoteKind.FINDING)
        if state.drift_allowed is not None and check_drift(state) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        write_job_summary(state, rows)


def check_drift(state: ModelAnalyzerSession) -> bool:
    """The config-drift gate (reports/adopt.py): True when a model's shipped config fails it; each finding is
    said at the end of the run."""
    assert state.drift_allowed is not None
    repository = state.profile.run.model_repository
    findings = drift_findings(state.rankings, {model.name: model for model in state.profile.models},
                              state.drift_allowed, repository,
                              OutputLayout.of(state.profile))
    for text in findings:
        state.facts.note(text, NoteKind.FINDING)
    return bool(findings)


def write_job_summary(state: ModelAnalyzerSession, rows: Sequence[Measurement]) -> None:
    """`--ma-markdown PATH` and, on GitHub Actions, `$GITHUB_STEP_SUMMARY` (appended to, as GitHub expects):
    the run in Markdown (reports/markdown.py). Not on an xdist worker: the controller has every report."""
    path = state.config.getoption("ma_markdown", default=None)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY", "")
    if not path and not step_summary:
        return
    # As each item judged its point: the same interval as its message, its junit properties and the terminal.
    comparisons = list(state.comparisons.items()) if state.baseline is not None else []
    summary = RunSummary(
        title=f"Model analyzer: {state.profile.source.name if state.profile.source else 'profile'}",
        covered=coverage(state, rows), rankings=state.rankings,
        base_configs={model.name: model.base_config for model in state.profile.models},
        failures=state.failures,
        baseline=state.baseline.name if state.baseline is not None else "", comparisons=comparisons,
        new_points=state.new_points,
        missing_points=(state.baseline.missing([m.name for m in state.profile.models], state.comparisons)
                        if state.baseline is not None else []),
        notes=[note for note, kind in state.facts.notes.items() if kind.in_job_summary],
        same_run=state.baseline is not None and state.baseline.same_run,
        sides={m.point_id: (side.metrics, m.metrics) for m in rows if (side := m.baseline_side) is not None},
    )
    written, notes = write_summary(render(summary), path, step_summary)
    state.exported += written
    for text in notes:
        state.facts.note(text)


def coverage(state: ModelAnalyzerSession, rows: Sequence[Measurement]) -> str:
    """Which points the run's reports cover: a `-k` or `--lf` run's are a selection, and say so."""
    total = count_points(state.profile)
    selected = state.resolver.selected
    measured = len(rows)
    if selected is None or len(selected) >= total:
        return f"all {total} points, {measured} measured"
    return (f"{len(selected)} of {total} points, {measured} measured (the others were deselected, e.g. by -k or "
            "--lf, and are not in this report)")
