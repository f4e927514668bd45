"""Gates, regression checks and report files, on the real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from tests.support import HAS_GPU, MODELS, open_in_chromium

pytestmark = pytest.mark.e2e

SWEEP = f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 4}}]]
concurrency: [1, 4]
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 20}}
"""


def test_latency_gate_fails_exactly_the_points_above_the_bound(run_profile, pytester: pytest.Pytester) -> None:
    # One instance at concurrency 4 queues requests: p99 is about 4 x 20 ms, over the 50 ms bound.
    run = run_profile(SWEEP + "constraints: {perf_latency_p99: {max: 50}}\n")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    over = {item.nodeid for item in run.items if item.measurement["metrics"]["perf_latency_p99"] > 50}
    failed = {item.nodeid for item in run.items if item.outcome == "failed"}
    assert failed == over and any("sleep_config_default::b1-c4" in nodeid for nodeid in failed)
    for item in run.items:
        if item.outcome == "failed":
            p99 = item.measurement["metrics"]["perf_latency_p99"]
            assert f"perf_latency_p99 = {p99:.4g} ms > max 50 ms [sleep / sleep_config_default (batch 1, " \
                   f"concurrency {item.measurement['load']})]" in item.message
    run.result.stdout.fnmatch_lines(["*sleep_config_0*4:CPU*<- best", "sleep: best configuration is sleep_config_0"])

    # The files: Model Analyzer's inference table, the HTML summary, the best config as a model directory.
    table = (pytester.path / "results" / "metrics-model-inference.csv").read_text().splitlines()
    assert table[0] == ("Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,"
                        "Satisfies Constraints,Throughput (infer/sec),p99 Latency (ms)")
    assert table[1].startswith("sleep,1,4,sleep_config_0,4:CPU,8,Yes,")
    assert sum(",No," in line for line in table) == len(failed)
    # GPU data only where NVML sees a GPU: without one, no GPU table, as in Model Analyzer.
    assert (pytester.path / "results" / "metrics-model-gpu.csv").exists() == HAS_GPU
    best = pytester.path / "output_model_repository" / "sleep_config_0"
    config = text_format.Parse((best / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    assert config.name == "sleep_config_0" and config.instance_group[0].count == 4
    assert (best / "1" / "model.py").exists()
    check_report_in_browser(pytester.path / "reports" / "summary.html", pytester.path, points=len(run.items))

    # As Model Analyzer's profile, the run ends with the detailed reports of its best configurations
    # (num_configs_per_model, 3: both variants here).
    detailed = pytester.path / "reports" / "detailed"
    assert sorted(path.name for path in detailed.iterdir()) == ["sleep_config_0.html", "sleep_config_default.html"]
    # `--ma-report` writes one from the checkpoint alone: no server, no measurement, no new checkpoint.
    (detailed / "sleep_config_default.html").unlink()
    report = pytester.runpytest_subprocess("--ma-config", str(pytester.path / "profile.yaml"), "-p",
                                           "no:cacheprovider", "--ma-report=sleep_config_default")
    assert report.ret == pytest.ExitCode.OK, report.stdout.str()
    report.stdout.fnmatch_lines(["model-analyzer: detailed report of sleep_config_default (2 measurements from "
                                 "0.ckpt): *sleep_config_default.html"])
    assert sorted(path.name for path in (pytester.path / "checkpoints").iterdir()) == ["0.ckpt"]
    page = detailed / "sleep_config_default.html"
    default_points = [item for item in run.items if "sleep_config_default" in item.nodeid]
    dom, shot, blank_shot = open_in_chromium(page, pytester.path)
    assert 'data-errors="0"' in dom
    # The latency breakdown: one bar per load, each stacked from the components that take time.
    bars = re.findall(r'data-series="([^"]+)" data-category="([0-9]+)"', dom)
    assert {category for _, category in bars} == {"1", "4"}
    assert {"server queue", "server compute infer"} <= {series for series, _ in bars}
    # Throughput and p99 over the load, a point per load; and every request's latency, a curve per load.
    plots = dom.split("<svg")[1:]
    assert len(plots) == 4
    for title in (": throughput", ": p99 latency"):
        (plot,) = [plot for plot in plots if title in plot]
        assert plot.count('r="3.5"') == len(default_points)
    (distribution,) = [plot for plot in plots if ": latency of every request" in plot]
    assert distribution.count("<polyline") == len(default_points)
    assert "FAIL: perf_latency_p99" in dom and dom.count("<tr>") == 1 + len(default_points)
    assert shot.stat().st_size > 5 * blank_shot.stat().st_size
    wrong = pytester.runpytest_subprocess("--ma-config", str(pytester.path / "profile.yaml"), "-p",
                                          "no:cacheprovider", "--ma-report=sleep_config_1")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["ERROR: --ma-report: 0.ckpt has no measurement of `sleep_config_1` (did you mean "
                                "`sleep_config_0`?); it holds 2 configurations"])


def test_a_suite_within_its_bounds_passes(run_profile, pytester: pytest.Pytester) -> None:
    run = run_profile(SWEEP + "latency_budget: 1000\nmin_throughput: 1\nskip_summary_reports: true\n")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert {item.outcome for item in run.items} == {"passed"}
    assert not (pytester.path / "results").exists() and not (pytester.path / "reports").exists()


def test_regression_gate_against_a_better_baseline(run_profile, pytester: pytest.Pytester) -> None:
    body = SWEEP + "skip_summary_reports: true\n"
    first = run_profile(body)
    assert first.result.ret == pytest.ExitCode.OK
    # A baseline ten times faster: an edited copy of the real checkpoint.
    checkpoints = pytester.path / "checkpoints"
    data = json.loads((checkpoints / "0.ckpt").read_text())
    for measurement in data["measurements"]:
        measurement["metrics"]["perf_throughput"] *= 10
    (checkpoints / "1.ckpt").write_text(json.dumps(data))
    compared = run_profile(body, "--ma-compare=1", "--ma-compare-fail=perf_throughput:5%")
    assert compared.result.ret == pytest.ExitCode.TESTS_FAILED
    assert {item.outcome for item in compared.items} == {"failed"}
    for item in compared.items:
        # About 90% worse: the baseline is ten times the first run, and this run measures afresh; the failure
        # is confirmed by more trials before it is reported.
        found = re.search(r"perf_throughput -([0-9.]+)% \(95% CI -[0-9.]+% to -[0-9.]+%\) vs 1\.ckpt, allowed 5%, "
                          r"([23]) trials", item.message)
        assert found and 80 < float(found.group(1)) < 95, item.message
    assert all("ma_from" not in item.properties for item in compared.items)  # measured again, not reused
    # Without a threshold the comparison shows nothing failing.
    assert run_profile(body, "--ma-compare=0").result.ret == pytest.ExitCode.OK


def check_report_in_browser(page: Path, workdir: Path, points: int) -> None:
    """The report loads in real headless Chromium without errors and its plots render."""
    dom, shot, blank_shot = open_in_chromium(page, workdir)
    assert 'data-errors="0"' in dom  # no script error while loading
    assert dom.count("<svg") == 2  # both plots of the one model
    assert dom.count('r="3.5"') == 2 * points  # every point in both plots
    assert 'class="highlight"' in dom and "Pareto front" in dom and "Covers all " in dom
    assert "Best configuration: <strong>sleep_config_0</strong>" in dom
    # A page with plots and tables compresses far worse than an empty one of the same size.
    assert shot.stat().st_size > 5 * blank_shot.stat().st_size


def test_top_configs_across_models_are_written_to_the_output_repository(run_profile,
                                                                        pytester: pytest.Pytester) -> None:
    """num_top_model_configs: the N best configs of all models together, by the global objectives within the
    global constraints, are written beside each model's best (Model Analyzer's top-models ranking)."""
    run = run_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
num_top_model_configs: 3
constraints: {{perf_latency_p99: {{max: 1000}}}}
profile_models:
  add:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: 2
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
""")
    assert run.result.ret == 0, run.result.stdout.str()
    throughput = {item.variant: item.measurement["metrics"]["perf_throughput"] for item in run.items}
    top = sorted(throughput, key=throughput.__getitem__, reverse=True)[:3]
    # add (about 1 ms per request) beats sleep (20 ms per batch) twice over; sleep's best is third.
    assert set(top[:2]) == {"add_config_default", "add_config_0"}, throughput
    run.result.stdout.fnmatch_lines([f"*top 3 configurations across models: {', '.join(top)}"])
    written = sorted(path.name for path in (pytester.path / "output_model_repository").iterdir())
    assert written == sorted({*top, max(("sleep_config_default", "sleep_config_0"), key=throughput.__getitem__)})
    for name in top:
        config = text_format.Parse((pytester.path / "output_model_repository" / name / "config.pbtxt").read_text(),
                                   model_config_pb2.ModelConfig())
        assert config.name == name


def test_the_drift_gate_fails_a_shipped_config_clearly_worse_than_a_swept_one(run_profile, model_repo,
                                                                              pytester: pytest.Pytester) -> None:
    """--ma-fail-if-not-best: the repository's `sleep` (one instance) against two instances at concurrency 2,
    about twice the throughput; then against a variant that sleeps twice as long, which the shipped config
    beats."""
    repo = model_repo("sleep")
    profile = f"""
model_repository: {repo}
run_config_search_disable: true
concurrency: 2
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 20}}
profile_models:
  sleep:
    model_config_parameters:
"""
    worse = run_profile(profile + "      instance_group: [[{kind: KIND_CPU, count: 2}]]\n",
                        "--ma-fail-if-not-best=10", "--ma-fresh")
    output = worse.result.stdout.str()
    assert worse.result.ret == pytest.ExitCode.TESTS_FAILED, output
    assert [item.outcome for item in worse.items] == ["passed", "passed"]  # every point passed; the run did not
    match = re.search(r"config drift: sleep: the shipped config \(sleep_config_default\) is (\d+\.\d)% worse on the "
                      r"objectives \(allowed 10%\) than sleep_config_0; the change that adopts it: (\S+\.diff)", output)
    assert match and float(match.group(1)) > 30, output
    diff = Path(match.group(2)).read_text()
    assert "-instance_group [ { kind: KIND_CPU, count: 1 } ]" in diff and "+  count: 2" in diff, diff
    assert "a/sleep/config.pbtxt" in diff

    best = run_profile(profile + '      parameters: {sleep_ms: {string_value: "40"}}\n',
                       "--ma-fail-if-not-best=10", "--ma-fresh")
    assert best.result.ret == pytest.ExitCode.OK, best.result.stdout.str()
    assert "config drift" not in best.result.stdout.str()
