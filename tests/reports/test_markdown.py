"""The Markdown job summary: readable in a PR comment, and never over GitHub's 1 MiB per step."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.ranking import rank
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports import markdown

BASE = {"name": "add", "max_batch_size": 8, "instance_group": [{"count": 1, "kind": "KIND_CPU"}]}


def measurement(variant: str, count: int, throughput: float) -> Measurement:
    config = {"max_batch_size": 8, "instance_group": [{"count": count, "kind": "KIND_CPU"}]}
    return Measurement(model="add", variant=variant, batch_size=1, load_kind="concurrency", load=4,
                       metrics={"perf_throughput": throughput, "perf_latency_p99": 2.0}, config_digest=variant,
                       config=config)


def summary(**overrides: object) -> markdown.RunSummary:
    rows = [measurement("add_config_default", 1, 100.0), measurement("add_config_0", 2, 180.0)]
    values: dict[str, object] = dict(
        title="Model analyzer: profile.yaml", covered="all 2 points, 2 measured",
        rankings=[rank("add", rows, {"perf_throughput": 10}, {"perf_latency_p99": Bounds(None, 5.0)})],
        base_configs={"add": BASE})
    values.update(overrides)
    return markdown.RunSummary(**values)  # type: ignore[arg-type]


def test_the_best_config_is_named_with_what_sets_it_apart() -> None:
    text = markdown.render(summary())
    assert "| add | `add_config_0` | instance_group[0].count 1 -> 2 | 180.0 infer/s, p99 2.00 ms (b1-c4) |" in text
    assert "Failed gates" not in text and "Changes against" not in text


def test_a_failed_gate_keeps_its_figures_in_one_cell() -> None:
    label = "add / add_config_0 (batch 1, concurrency 4)"
    text = markdown.render(summary(failures=[(label, f"perf_latency_p99 = 9 ms > max 5 ms | x\nmore [{label}]")]))
    assert f"| {label} | perf_latency_p99 = 9 ms > max 5 ms \\| x more |" in text


def test_long_tables_are_cut_and_say_so() -> None:
    failures = [(f"add / add_config_{i} (batch 1, concurrency 1)", "too slow") for i in range(250)]
    text = markdown.render(summary(failures=failures))
    assert text.count("too slow") == markdown.ROWS_PER_TABLE
    assert "50 more failed gates not shown" in text and "Cut to stay readable: 50 more failed gates" in text


@settings(max_examples=25, deadline=None)
@given(size=st.integers(2_000, 20_000), message=st.text(min_size=1, max_size=300))
def test_never_over_the_byte_limit(size: int, message: str) -> None:
    failures = [(f"add / add_config_{i} (batch 1, concurrency 1)", message) for i in range(150)]
    text = markdown.render(summary(failures=failures), max_bytes=size)
    assert len(text.encode("utf-8")) <= size + 400  # the closing note that says it was cut
    if len(markdown.render(summary(failures=failures)).encode("utf-8")) > size:
        assert "The summary was cut at" in text


def test_the_summary_is_written_to_its_file_and_appended_to_githubs(tmp_path: Path) -> None:
    from pytest_model_analyzer.reports.markdown import write_summary

    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    written, notes = write_summary("# run\n", str(tmp_path / "summary.md"), str(step))
    assert written == [tmp_path / "summary.md", step] and notes == []
    assert (tmp_path / "summary.md").read_text() == "# run\n" and step.read_text() == "earlier step\n# run\n"
    written, notes = write_summary("# run\n", str(tmp_path / "missing" / "summary.md"), "")
    assert written == [] and notes[0].startswith(f"job summary not written to {tmp_path / 'missing' / 'summary.md'}:")
