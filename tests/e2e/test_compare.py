"""--ma-compare on the real server: an unchanged re-run passes, a slower config fails naming the change,
and a difference within the noise is inconclusive instead of failing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# Two variants of the sleep model (20 ms per batch) at three concurrencies: six points, enough for the gate to
# estimate the run's noise from the points themselves.
SUITE = """
model_repository: {repo}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 2}}]]
concurrency: [1, 2, 4]
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 300, stability-percentage: 20}}
"""
GATE = "--ma-compare-fail=perf_throughput:10%"


def sleep_repo(model_repo, sleep_ms: int | None = None) -> Path:
    repo = model_repo("sleep")
    if sleep_ms is not None:
        set_sleep(repo, sleep_ms)
    return repo


def set_sleep(repo: Path, sleep_ms: int) -> None:
    config = repo / "sleep" / "config.pbtxt"
    text = config.read_text()
    config.write_text(re.sub(r'string_value: "\d+"', f'string_value: "{sleep_ms}"', text))


def test_an_unchanged_rerun_passes(run_profile, model_repo) -> None:
    body = SUITE.format(repo=sleep_repo(model_repo))
    assert run_profile(body).result.ret == pytest.ExitCode.OK
    again = run_profile(body, "--ma-compare=0", GATE, "-v")
    assert again.result.ret == pytest.ExitCode.OK, again.result.stdout.str()
    assert [item.outcome for item in again.items] == ["passed"] * 6
    again.result.stdout.fnmatch_lines(["model-analyzer: compared with 0.ckpt: * passed, 0 failed, *"])


def test_a_config_change_that_slows_the_model_fails_and_names_the_change(run_profile, model_repo,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = sleep_repo(model_repo)
    # One instance at concurrency 4 waits about 4 x 20 ms: within 120 ms before the change, not after it. The
    # second variant's config equals the default's: its points reuse the default's measurements, and carry their
    # verdicts.
    body = SUITE.format(repo=repo).replace("[[{kind: KIND_CPU, count: 2}]]",
                                           "[[{kind: KIND_CPU, count: 2}], [{kind: KIND_CPU, count: 1}]]")
    body += "constraints: {perf_latency_p99: {max: 120}}\n"
    assert run_profile(body).result.ret == pytest.ExitCode.OK
    set_sleep(repo, 40)  # twice as slow: throughput halves
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    slower = run_profile(body, "--ma-compare=0", GATE)
    assert slower.result.ret == pytest.ExitCode.TESTS_FAILED
    # Compared by identity although the config digest changed; the same config's other points too.
    assert [item.outcome for item in slower.items] == ["failed"] * 9, slower.result.stdout.str()
    same = {i.nodeid.split("::")[-1]: i.message.split(" [")[0] for i in slower.by_name("sleep_config_1")}
    assert same == {i.nodeid.split("::")[-1]: i.message.split(" [")[0] for i in slower.by_name("sleep_config_default")}
    for item in slower.items:
        assert re.search(r"perf_throughput -[45]\d\.\d% \(95% CI -\d+\.\d% to -\d+\.\d%\) vs 0\.ckpt, allowed 10%",
                         item.message), item.message
        assert "config changed since 0.ckpt: parameters.sleep_ms.string_value 20 -> 40" in item.message

    # The job summary, appended to GitHub's file: the failed gates with their figures (a constraint and the
    # regression), the changes with their intervals, and the best config with what sets it apart.
    text = step_summary.read_text()
    assert text.startswith("earlier step\n## Model analyzer: profile.yaml\n"), text
    assert "all 9 points, 9 measured; 9 failed a gate; compared with `0.ckpt`." in text, text
    assert re.search(r"\| sleep / sleep_config_default \(batch 1, concurrency 4\) \| perf_latency_p99 = "
                     r"\d+\.?\d* ms > max 120 ms", text), text
    assert re.search(r"\| fail \| sleep / sleep_config_\w+ \(batch 1, concurrency \d\) \| perf_throughput \| "
                     r"-[45]\d\.\d% \| -\d+\.\d% to -\d+\.\d% \| 10% \|", text), text
    assert "### Best configuration per model" in text and "| sleep | " in text


def test_a_difference_within_the_noise_is_inconclusive_not_a_failure(run_profile, model_repo,
                                                                     pytester: pytest.Pytester) -> None:
    body = SUITE.format(repo=sleep_repo(model_repo))
    assert run_profile(body).result.ret == pytest.ExitCode.OK
    # A baseline as noisy as a busy machine makes it: each point off by up to 25%, one of them 15% better
    # than today (so today looks 13% worse, past the 10% allowed, but well within the noise).
    path = pytester.path / "checkpoints" / "0.ckpt"
    data = json.loads(path.read_text())
    for measurement, factor in zip(data["measurements"], [1.15, 0.8, 1.25, 0.85, 1.2, 0.75], strict=True):
        measurement["metrics"]["perf_throughput"] *= factor
    (path.parent / "1.ckpt").write_text(json.dumps(data))
    noisy = run_profile(body, "--ma-compare=1", GATE, "-v")
    assert noisy.result.ret == pytest.ExitCode.OK, noisy.result.stdout.str()
    assert all(item.outcome == "passed" for item in noisy.items)
    noisy.result.stdout.fnmatch_lines([
        "*INCONCLUSIVE (perf_throughput -*% (95% CI *) vs 1.ckpt, allowed 10%, * too noisy to judge here "
        "(the smallest change this point resolves: about *",
        "model-analyzer: compared with 1.ckpt: * passed, 0 failed, * inconclusive*",
    ])
