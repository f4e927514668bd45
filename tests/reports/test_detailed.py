"""Detailed reports of one configuration: the latency breakdown, the curves over the load, the table."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.detailed import render_detailed, report_path
from pytest_model_analyzer.reports.svg import HEIGHT, TOP, svg_stacked_bars

CONFIG = {"name": "add", "max_batch_size": 8, "instance_group": [{"count": 2, "kind": "KIND_CPU"}],
          "dynamic_batching": {}}


def measurement(load: int, batch: int = 1, gpu: bool = False) -> Measurement:
    metrics = {"perf_throughput": 100.0 * load, "perf_latency_p99": 2.0 * load, "perf_latency_avg": 1.5 * load,
               "perf_client_send_recv": 0.1, "perf_server_queue": 0.2 * load, "perf_server_compute_input": 0.0,
               "perf_server_compute_infer": 1.0, "perf_server_compute_output": 0.05}
    gpu_metrics = {"GPU-1234567890abcdef": {"gpu_used_memory": 500.0 + load, "gpu_utilization": 10.0 * load}} if gpu \
        else {}
    return Measurement("add", "add_config_1", batch, "concurrency", load, metrics, config=CONFIG,
                       gpu_metrics=gpu_metrics)


def test_a_page_shows_the_breakdown_the_curves_and_every_measurement_with_its_verdict() -> None:
    rows = [measurement(load) for load in (4, 1, 2)]
    page = render_detailed("add", "add_config_1", rows, {"name": "add", "max_batch_size": 8},
                           {"perf_latency_p99": Bounds(max=5.0)}, "3.ckpt")
    bars = re.findall(r'data-series="([^"]+)" data-category="([0-9]+)"', page)
    # One bar per load, in load order, stacked from every component that took time (compute input took none).
    assert [category for _, category in bars[::4]] == ["1", "2", "4"]
    assert {series for series, _ in bars} == {"client send recv", "server queue", "server compute infer",
                                              "server compute output"}
    assert page.count("<svg") == 3  # breakdown, throughput and p99 over the load; no GPU figures
    assert page.count("<tr>") == 1 + 3 and page.count("FAIL: perf_latency_p99 = 8 ms &gt; max 5 ms") == 1
    assert "2:CPU instances, max batch size 8, dynamic batching on" in page
    assert "instance_group" in page  # what it changes from the repository's config
    assert "Best within the constraints: <strong>200.0 infer/sec</strong>" in page and "From 3.ckpt" in page


def test_gpu_figures_and_each_client_batch_size_get_their_own_plots() -> None:
    rows = [measurement(load, batch, gpu=True) for batch in (1, 4) for load in (1, 2)]
    page = render_detailed("add", "add_config_1", rows, {}, {}, "this run")
    assert page.count('data-batch="') == 2
    assert page.count("<svg") == 2 * 5  # breakdown, throughput, p99, GPU memory, GPU utilisation per batch size
    assert "GPU-12345678" in page and "(no point meets" not in page


def test_a_name_that_is_not_one_plain_file_name_gets_no_report_file() -> None:
    base = Path("reports")
    assert report_path(base, "add_config_1") == base / "add_config_1.html"
    for hostile in ("../victim", "a/b", ".", "..", ""):
        assert report_path(base, hostile) is None


@given(st.lists(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=8), min_size=1, max_size=5)
       .filter(lambda stacks: len({len(values) for values in stacks}) == 1))
@example([[5e-324]])  # found by hypothesis in a CI-like run: the axis of a subnormal total divided by zero
def test_every_positive_part_is_one_bar_inside_the_frame_below_the_legend(stacks: list[list[float]]) -> None:
    categories = [str(i) for i in range(len(stacks[0]))]
    svg = svg_stacked_bars("t", "load", "ms", categories, {f"s{i}": values for i, values in enumerate(stacks)})
    rects = re.findall(r'<rect x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)" fill="[^"]+" data-series', svg)
    assert len(rects) == sum(value > 0 for values in stacks for value in values)
    legend_bottom = TOP + 14 * len(stacks)  # the legend's rows, top right: no bar reaches under them
    for top, height in rects:
        assert float(top) >= legend_bottom and float(top) + float(height) <= HEIGHT + 0.1 and float(height) >= 0


def test_a_run_writes_its_best_configurations_pages_or_says_how_to_write_them(tmp_path: Path) -> None:
    """Model Analyzer's profile: the num_configs_per_model best configs get detailed reports, or with
    skip_detailed_reports the run gives the command that writes them from the checkpoint."""
    from pytest_model_analyzer.config.builder import build_profile
    from pytest_model_analyzer.reports.export import export, rankings
    from tests.support import MODELS

    def sized(variant: str, load: int, throughput: float) -> Measurement:
        return Measurement("add", variant, 1, "concurrency", load, {"perf_throughput": throughput,
                           "perf_latency_p99": 1.0}, config=CONFIG, config_digest=variant)

    rows = [sized(f"add_config_{n}", load, 100.0 * n + load) for n in range(4) for load in (1, 2)]
    for skip in (False, True):
        out = tmp_path / str(skip)
        profile = build_profile({"model_repository": str(MODELS), "profile_models": "add", "concurrency": [1, 2],
                                 "num_configs_per_model": 2, "skip_detailed_reports": skip,
                                 "export_path": str(out), "output_model_repository_path": str(out / "models")},
                                cwd=tmp_path, source=tmp_path / "profile.yaml")
        result = export(profile, rankings(profile, rows), rows, {}, 0, "", interrupted=False)
        detailed = out / "reports" / "detailed"
        if skip:
            assert not detailed.exists()
            assert f"pytest --ma-config {tmp_path / 'profile.yaml'} --ma-report=add_config_3,add_config_2" in \
                "\n".join(result.notes)
        else:
            assert sorted(path.name for path in detailed.iterdir()) == ["add_config_2.html", "add_config_3.html"]


def test_every_requests_latency_is_drawn_as_a_distribution_per_load() -> None:
    from dataclasses import replace

    from pytest_model_analyzer.domain.latency import LatencySketch

    rows = [replace(measurement(load), latency=LatencySketch.of([load * 2.0 + i % 7 * 0.1 for i in range(50)])
                    .to_dict()) for load in (1, 2)]
    page = render_detailed("add", "add_config_1", rows, {}, {}, "this run")
    assert page.count("<svg") == 4  # breakdown, throughput, p99, and the requests' latencies
    assert "latency of every request" in page
    assert "concurrency 1 (50 requests)" in page and "concurrency 2 (50 requests)" in page
    assert page.count("<svg") == 3 + 1 and "requests at or under it (%)" in page


def test_a_custom_load_is_named_by_its_file_not_by_its_load_number() -> None:
    """A custom load's points all have load 0: the page says which stimulus ran (`burst.txt`)."""
    row = Measurement("add", "add_config_1", 1, "request_intervals", 0, measurement(1).metrics, config=CONFIG,
                      perf_analyzer_flags={"request-intervals": "/data/burst.txt"})
    page = render_detailed("add", "add_config_1", [row], {}, {}, "this run")
    assert "custom load burst.txt" in page and "custom load 0" not in page
    assert "<td>burst.txt</td>" in page
