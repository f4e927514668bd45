"""The run as a Markdown job summary: what a CI engineer reads in GitHub's job page or a PR comment.

Per model the best configuration and the fields that set it apart from the repository's config; the failed
gates with their figures; the changes against the baseline with their 95% intervals; the points new to this
run and those the baseline has that it did not measure. GitHub shows at most 1 MiB of a step's summary
(larger ones are refused), so the text is kept under MAX_BYTES and says what it cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_model_analyzer.analysis.ab import WILD_RULE
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.analysis.regression import Comparison
from pytest_model_analyzer.analysis.statistics import RULE, Verdict
from pytest_model_analyzer.domain.identity import PointId
from pytest_model_analyzer.reports.describe import distinguishing_fields
from pytest_model_analyzer.reports.terminal import headline

MAX_BYTES = 1024 * 1024 - 4096  # GitHub's per-step limit, less room for the note that says what was cut
ROWS_PER_TABLE = 200  # a longer table is cut to this many rows, the rest counted


@dataclass(frozen=True)
class RunSummary:
    """What the summary says, gathered by the pytest layer at the end of the run."""

    title: str
    covered: str  # which points the run covers, in words ("all 12 points", "5 of 12 points (-k)")
    rankings: Sequence[ModelRanking]
    base_configs: Mapping[str, Mapping[str, Any]]  # each model's repository config
    failures: Sequence[tuple[str, str]] = ()  # (point, the gate's message)
    baseline: str = ""  # the baseline's name, "" when nothing was compared
    comparisons: Sequence[tuple[PointId, Comparison]] = ()
    new_points: Sequence[PointId] = ()
    missing_points: Sequence[PointId] = ()
    notes: Sequence[str] = field(default_factory=tuple)
    # A baseline measured in this run (A/B): each point's figures on both sides, (baseline, candidate) metrics.
    same_run: bool = False
    sides: Mapping[PointId, tuple[Mapping[str, float], Mapping[str, float]]] = field(default_factory=dict)


def _cell(text: str) -> str:
    """A table cell: pipes escaped, one line."""
    return " ".join(str(text).replace("|", "\\|").split())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], cut: list[str], what: str) -> list[str]:
    shown = rows[:ROWS_PER_TABLE]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in shown]
    if len(rows) > len(shown):
        cut.append(f"{len(rows) - len(shown)} more {what}")
        lines.append(f"\n*{len(rows) - len(shown)} more {what} not shown.*")
    return lines


def _without_label(message: str, label: str) -> str:
    """A gate's message ends with the point's label, which the table has in its own column."""
    suffix = f" [{label}]"
    return message[: -len(suffix)] if message.endswith(suffix) else message


def _best_section(summary: RunSummary, cut: list[str]) -> list[str]:
    rows = []
    for ranking in summary.rankings:
        best = ranking.best
        if best is None:
            rows.append([ranking.model, "none meets the constraints", "", ""])
            continue
        measurement = best.representative
        rows.append([ranking.model, f"`{best.variant}`",
                     distinguishing_fields(summary.base_configs.get(ranking.model, {}), measurement.config),
                     f"{headline(measurement.metrics)} ({measurement.point_id.name})"])
    return ["### Best configuration per model", "",
            *_table(["model", "best", "what sets it apart", "at its best point"], rows, cut, "models")]


def _verdict_rows(summary: RunSummary) -> list[list[str]]:
    """Failures first, then the undecided, then the passes; within each, the largest change first."""
    order = {Verdict.FAIL: 0, Verdict.INCONCLUSIVE: 1, Verdict.UNDECIDED: 1}
    results = sorted(((point_id, result) for point_id, comparison in summary.comparisons
                      for result in comparison.results if not result.judgement.reason),
                     key=lambda item: (order.get(item[1].verdict, 2), -abs(round(100 * item[1].judgement.change, 1))))
    rows = []
    for point_id, result in results:
        j = result.judgement
        interval = f"{100 * j.low:+.1f}% to {100 * j.high:+.1f}%" if j.resolution is not None else "not known"
        figures = []
        if summary.same_run:
            before, after = summary.sides.get(point_id, ({}, {}))
            metric = result.check.metric
            figures = [f"{before[metric]:.4g}" if metric in before else "", f"{after[metric]:.4g}" if metric in after
                       else "", str(result.trials)]
        rows.append([result.verdict.value, point_id.label, result.check.metric, *figures, f"{100 * j.change:+.1f}%",
                     interval, result.check.describe()])
    return rows




def render(summary: RunSummary, max_bytes: int = MAX_BYTES) -> str:
    cut: list[str] = []
    failed_points = {label for label, _ in summary.failures}
    lines = [f"## {summary.title}", "",
             f"{summary.covered}; {len(failed_points)} failed a gate"
             + (f"; compared with `{summary.baseline}`" if summary.baseline else "") + ".", ""]
    lines += [*_best_section(summary, cut), ""]
    if summary.failures:
        lines += ["### Failed gates", "",
                  *_table(["point", "why"], [[label, _without_label(message, label)]
                                             for label, message in summary.failures], cut, "failed gates"), ""]
    if summary.baseline:
        rows = _verdict_rows(summary)
        if summary.same_run:
            lines += [f"### Changes against the baseline `{summary.baseline}`, measured in the same run", "",
                      "Each point was measured on the baseline and on the candidate in alternation on the same "
                      "server; the change is the mean of the pairs' ratios, with its 95% interval, as the item "
                      "was judged; " + RULE.format(trials="pairs", trial="pair") + " " + WILD_RULE, ""]
            header = ["verdict", "point", "metric", "baseline", "candidate", "pairs", "change", "95% interval",
                      "allowed"]
        else:
            lines += [f"### Changes against `{summary.baseline}`", "",
                      "Each change is this run's trials against the baseline's, with its 95% interval, as the item "
                      "was judged; " + RULE.format(trials="trials", trial="trial"), ""]
            header = ["verdict", "point", "metric", "change", "95% interval", "allowed"]
        lines += (_table(header, rows, cut, "compared metrics") if rows else ["No metric was compared."]) + [""]
        if summary.new_points:
            lines += [f"**New points** (not in `{summary.baseline}`): "
                      + ", ".join(f"`{p.label}`" for p in summary.new_points[:ROWS_PER_TABLE]), ""]
        if summary.missing_points:
            lines += [f"**Missing points** (in `{summary.baseline}`, not measured now): "
                      + ", ".join(f"`{p.label}`" for p in summary.missing_points[:ROWS_PER_TABLE]), ""]
    lines += [f"> {note}" for note in summary.notes]
    text = "\n".join(lines) + "\n"
    if cut:
        text += f"\n*Cut to stay readable: {', '.join(cut)}.*\n"
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        kept = encoded[:max_bytes].decode("utf-8", "ignore").rsplit("\n", 1)[0]
        text = kept + (f"\n\n*The summary was cut at {max_bytes:,} bytes (GitHub shows at most 1 MiB per step); "
                       "the full figures are in the CSV tables and `summary.html`.*\n")
    return text


def write_summary(text: str, path: str | None, step_summary: str) -> tuple[list[Path], list[str]]:
    """`--ma-markdown PATH` (written) and `$GITHUB_STEP_SUMMARY` (appended to, as GitHub expects): the files
    written, and a note for each that could not be."""
    written, notes = [], []
    for target, mode in ((path, "w"), (step_summary, "a")):
        if not target:
            continue
        try:
            with open(target, mode, encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            notes.append(f"job summary not written to {target}: {exc}")
            continue
        written.append(Path(target))
    return written, notes
