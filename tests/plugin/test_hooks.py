"""The extension surface, end to end through pytest's hooks: a conftest overrides the measuring fixture with
a fake measurer, and implements the `pytest_ma_*` hooks. No server, no perf_analyzer."""

from __future__ import annotations

import json

import pytest

from tests.support import MODELS

CONFTEST = '''
import pytest

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports.columns import Column

SEEN = []


class FakeMeasurer:
    """Throughput rises with the load up to 4, then stays: a plateau for the search's early exit."""

    def measure(self, point):
        with open("measured.log", "a") as log:
            log.write(point.id.label + "\\n")
        return Measurement(point.model.name, point.variant.name, point.batch_size, point.load_kind, point.load,
                           {"perf_throughput": 100.0 * min(point.load, 4), "perf_latency_p99": 1.5 * point.load},
                           config_digest=point.config_digest, config=point.config,
                           perf_analyzer_flags=dict(point.perf_analyzer_flags))


@pytest.fixture(scope="session")
def ma_measurer():
    return FakeMeasurer()


def pytest_ma_measurement(measurement, origin, config):
    SEEN.append(origin or "measured")


def pytest_ma_gates(measurement, model, config):
    if measurement.load == 8:
        return [f"concurrency 8 is not allowed for {model.name}"]
    return []


def pytest_ma_report_columns(config):
    return [Column("double p99", lambda m: f"{2 * m.metrics['perf_latency_p99']:.1f}")]


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("hook saw: " + ",".join(sorted(set(SEEN))) + f" x{len(SEEN)}")
'''

PROFILE = f"""
model_repository: {MODELS}
profile_models: sleep
run_config_search_max_instance_count: 1
run_config_search_max_model_batch_size: 1
run_config_search_max_concurrency: 64
checkpoint_directory: ckpt
export_path: out
output_model_repository_path: out/models
"""


@pytest.fixture
def sweep(pytester: pytest.Pytester, write_profile):
    pytester.makeconftest(CONFTEST)
    return write_profile(PROFILE)


def test_a_fake_measurer_runs_a_search_through_every_hook(pytester: pytest.Pytester, sweep) -> None:
    result = pytester.runpytest("--ma-config", str(sweep), "-v", "-rfs", "-p", "no:cacheprovider")
    # Two variants (default, config_0) x loads 1..64: c64 is skipped by the early exit (the last four loads
    # gained nothing), c8 fails the conftest's gate.
    result.assert_outcomes(passed=10, failed=2, skipped=2)
    result.stdout.fnmatch_lines([
        "concurrency 8 is not allowed for sleep [[]sleep / sleep_config_default (batch 1, concurrency 8)[]]",
        "*variant*double p99*gate*",
        "*sleep_config_default*1:CPU*16*400.0*24.00*48.0*pass*",
        "hook saw: measured x12",
        "FAILED *::sleep_config_default::b1-c8 - concurrency 8 is no*",
        "SKIPPED [[]2[]] *early exit: the last 4 loads gained 0.0% in throughput*",
    ])
    assert len((pytester.path / "measured.log").read_text().splitlines()) == 12
    saved = json.loads((pytester.path / "ckpt" / "0.ckpt").read_text())
    assert len(saved["measurements"]) == 12
    html = (pytester.path / "out" / "reports" / "summary.html").read_text()
    assert "<th>double p99</th>" in html


def test_a_resumed_run_reports_every_reused_measurement_to_the_hook(pytester: pytest.Pytester, sweep) -> None:
    pytester.runpytest("--ma-config", str(sweep), "-p", "no:cacheprovider").assert_outcomes(
        passed=10, failed=2, skipped=2)
    (pytester.path / "measured.log").unlink()
    again = pytester.runpytest("--ma-config", str(sweep), "-v", "-p", "no:cacheprovider")
    again.assert_outcomes(passed=10, failed=2, skipped=2)  # the same decisions from the checkpoint
    again.stdout.fnmatch_lines(["*b1-c1 PASSED (from 0.ckpt: 100.0 infer/s*", "hook saw: 0.ckpt x12"])
    assert not (pytester.path / "measured.log").exists()
