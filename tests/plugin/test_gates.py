"""Constraints get a confirmation trial before they fail an item (a fake measurer, through pytest)."""

from __future__ import annotations

import json

import pytest

from tests.support import MODELS

CONFTEST = '''
import collections

import pytest

from pytest_model_analyzer.domain.measurement import Measurement

# p99 per trial: c1 spikes once then is fine, c2 always violates, c4 always passes.
P99 = {1: [80.0, 40.0, 42.0], 2: [90.0, 95.0, 99.0], 4: [30.0, 31.0, 32.0]}
TRIALS = collections.Counter()


class FakeMeasurer:
    def measure(self, point):
        trial = TRIALS[point.load]
        TRIALS[point.load] += 1
        return Measurement(point.model.name, point.variant.name, point.batch_size, point.load_kind, point.load,
                           {"perf_throughput": 100.0, "perf_latency_p99": P99[point.load][trial]},
                           config_digest=point.config_digest, config=point.config,
                           perf_analyzer_flags=dict(point.perf_analyzer_flags))


@pytest.fixture(scope="session")
def ma_measurer():
    return FakeMeasurer()
'''


def test_a_one_off_spike_past_a_constraint_is_confirmed_away(pytester: pytest.Pytester, write_profile) -> None:
    pytester.makeconftest(CONFTEST)
    profile = write_profile(f"model_repository: {MODELS}\nrun_config_search_disable: true\nprofile_models: sleep\n"
                            "concurrency: [1, 2, 4]\nconstraints: {perf_latency_p99: {max: 50}}\n"
                            "checkpoint_directory: ckpt\nskip_summary_reports: true\n")
    result = pytester.runpytest("--ma-config", str(profile), "-rf", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    # The median of the two trials that agree.
    result.stdout.fnmatch_lines(["perf_latency_p99 = 92.5 ms > max 50 ms [[]sleep / sleep_config_default (batch 1, "
                                 "concurrency 2)[]]"])
    trials = {m["load"]: m["trials"].get("perf_latency_p99", [m["metrics"]["perf_latency_p99"]])
              for m in json.loads((pytester.path / "ckpt" / "0.ckpt").read_text())["measurements"]}
    assert trials == {1: [80.0, 40.0, 42.0], 2: [90.0, 95.0], 4: [30.0]}  # the spike outvoted; c2 confirmed
