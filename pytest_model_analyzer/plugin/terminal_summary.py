"""Everything the plugin writes to the terminal: the header line, each item's figures in -v, and the
end-of-run summary (notes, checkpoint, the per-model table, the best configurations, the files written)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from pytest_model_analyzer.analysis.ab import duet_advice
from pytest_model_analyzer.config.points import count_points
from pytest_model_analyzer.domain.identity import PointId, item_name
from pytest_model_analyzer.domain.outcome import GateOutcome
from pytest_model_analyzer.plugin.server_choice import SERVER_KEY
from pytest_model_analyzer.plugin.session import (
    INCONCLUSIVE,
    ORIGIN,
    ModelAnalyzerSession,
    property_of,
    reported_measurement,
)
from pytest_model_analyzer.plugin.xdist.workers import is_worker
from pytest_model_analyzer.reports.terminal import headline, summary_lines

if TYPE_CHECKING:
    from _pytest.terminal import TerminalReporter


class TerminalHooks:
    def __init__(self, session: ModelAnalyzerSession) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        profile = self.session.profile
        lines = [f"model-analyzer: {profile.source} ({len(profile.models)} models, {count_points(profile)} points, "
                 f"{profile.run.triton_launch_mode} server, {profile.run.client_protocol})"]
        server = config.stash.get(SERVER_KEY, "")
        if server:
            lines.append(f"model-analyzer: server {server}")
        return lines

    @pytest.hookimpl
    def pytest_report_teststatus(self, report: pytest.TestReport,
                                 config: pytest.Config) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        """In -v, a passed item's line shows its headline figures; a failure's message already has its numbers
        (and the short summary line keeps its room for that message)."""
        if report.when != "call" or not report.passed:
            return None
        measurement = reported_measurement(report, self.session.reported)
        if measurement is None:
            return None
        inconclusive = property_of(report, INCONCLUSIVE)
        if inconclusive:
            # Passed (it does not fail the run), counted apart: "10 passed, 2 inconclusive".
            return GateOutcome.INCONCLUSIVE.value, "?", (f"INCONCLUSIVE ({inconclusive})", {"yellow": True})
        figures = headline(measurement.metrics)
        name = item_name(measurement.point_id, measurement.perf_analyzer_flags)
        if not report.nodeid.endswith(f"::{name}"):
            figures = f"{name}: {figures}"  # a binary-search step: the load it chose
        origin = property_of(report, ORIGIN)
        if origin:
            figures = f"from {origin}: {figures}"
        return "passed", ".", (f"PASSED ({figures})", {"green": True})

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: TerminalReporter, exitstatus: int,
                                config: pytest.Config) -> None:
        if is_worker(config):
            return
        state = self.session
        for line in state.facts.notes:
            terminalreporter.write_line(f"model-analyzer: {line}", yellow=True)
        self._checkpoint(terminalreporter)
        if state.facts.server_restarts:
            terminalreporter.write_line(
                f"model-analyzer: the Triton server died and was restarted {state.facts.server_restarts} time(s); "
                "the items it was serving errored", red=True)
        rows = state.ledger.rows()
        if not rows:
            return
        terminalreporter.write_sep("-", f"model analyzer: {len(rows)} measurements")
        for line in summary_lines(state.profile, state.rankings, state.outcomes, state.columns):
            terminalreporter.write_line(line)
        for ranking in state.rankings:
            if not ranking.variants:
                continue
            if ranking.best is None:
                terminalreporter.write_line(f"{ranking.model}: no configuration satisfies its constraints", red=True)
            else:
                terminalreporter.write_line(f"{ranking.model}: best configuration is {ranking.best.variant}",
                                            green=True)
        self._comparison(terminalreporter)
        if state.exported:
            terminalreporter.write_line(f"model-analyzer: reports written: {', '.join(map(str, state.exported))}")

    def _comparison(self, terminalreporter: TerminalReporter) -> None:
        """What --ma-compare compared: verdicts, and the points that had no counterpart on either side."""
        state = self.session
        if state.baseline is None:
            return
        outcomes = list(state.outcomes.values())
        passed, failed, inconclusive = (outcomes.count(outcome) for outcome in
                                        (GateOutcome.PASSED, GateOutcome.FAILED, GateOutcome.INCONCLUSIVE))
        against = (f"the baseline {state.baseline.name} (measured in this run)" if state.baseline.same_run
                   else state.baseline.name)
        terminalreporter.write_line(
            f"model-analyzer: compared with {against}: {passed} passed, {failed} failed, {inconclusive} "
            "inconclusive (too noisy to judge here, see each item)", yellow=bool(inconclusive))
        mode = state.versions.mode
        advice = duet_advice(outcomes, mode is not None and mode.sequential, state.facts.gpu_count)
        if advice:
            terminalreporter.write_line(f"model-analyzer: {advice}", yellow=True)
        if state.new_points:
            terminalreporter.write_line(f"model-analyzer: {len(state.new_points)} new points, not in "
                                        f"{state.baseline.name}: " + _listed(state.new_points), yellow=True)
        missing = state.baseline.missing([model.name for model in state.profile.models], state.comparisons)
        if missing:
            terminalreporter.write_line(f"model-analyzer: {len(missing)} points of {state.baseline.name} were not "
                                        "measured in this run: " + _listed(missing), yellow=True)

    def _checkpoint(self, terminalreporter: TerminalReporter) -> None:
        keeper, ledger = self.session.keeper, self.session.ledger
        if keeper.error:
            terminalreporter.write_line(f"model-analyzer: {keeper.error}", red=True)
            for line in keeper.unsaved_lines:
                terminalreporter.write_line(line)
        elif keeper.saved_to is not None:
            terminalreporter.write_line(f"model-analyzer: saved {keeper.saved_count} measurements "
                                        f"({ledger.new_count} new) to {keeper.saved_to}")
        elif keeper.store is not None and ledger.rows():
            terminalreporter.write_line(f"model-analyzer: nothing new to save (latest: "
                                        f"{keeper.loaded_from or 'no checkpoint'})")
        if ledger.reused_count:
            terminalreporter.write_line(f"model-analyzer: {ledger.reused_count} measurements taken from "
                                        f"{ledger.stored_from}, not measured again")


def _listed(points: Sequence[PointId], most: int = 8) -> str:
    shown = ", ".join(f"{p.variant}::{p.name}" for p in points[:most])
    return shown + (f" and {len(points) - most} more" if len(points) > most else "")
