"""A/B in one run on the real server (--ma-baseline-repository, --ma-baseline-rev): the baseline version and the
candidate measured in alternation, each point gated on its pairs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_compare import set_sleep

# The sleep model (20 ms per batch) with a second config equal to the default's (one instance) and one with two
# instances, at three concurrencies: six points, enough for the pair noise to be pooled over the model.
SUITE = """
model_repository: {repo}
run_config_search_disable: true
profile_models:
  sleep:
    model_config_parameters:
      instance_group: [[{{kind: KIND_CPU, count: 1}}], [{{kind: KIND_CPU, count: 2}}]]
concurrency: [1, 2, 4]
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
"""
GATE = "--ma-compare-fail=perf_throughput:5%"
MESSAGE = re.compile(r"perf_throughput -\d+\.\d% \(95% CI -\d+\.\d% to -\d+\.\d%\) vs baseline {name} \(same run, "
                     r"\d pairs\), allowed 5%")


def two_versions(model_repo, tmp_path: Path, candidate_ms: int) -> tuple[Path, Path]:
    """(the candidate's repository, the baseline's): the same sleep model, the candidate at `candidate_ms`."""
    candidate = model_repo("sleep")
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    subprocess.run(["cp", "-r", str(candidate / "sleep"), str(baseline)], check=True)
    set_sleep(candidate, candidate_ms)
    return candidate, baseline


def test_an_unchanged_candidate_passes_with_both_sides_in_its_report(run_profile, model_repo, tmp_path: Path,
                                                                     pytester: pytest.Pytester) -> None:
    candidate, baseline = two_versions(model_repo, tmp_path, 20)
    log = tmp_path / "server.log"
    run = run_profile(SUITE.format(repo=candidate) + f"triton_output_path: {log}\n",
                      f"--ma-baseline-repository={baseline}", GATE, "-v")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert {item.outcome for item in run.items} == {"passed"} and len(run.items) == 9
    assert loaded_at_once(log.read_text()) == 2  # side by side: both versions held at once
    run.result.stdout.fnmatch_lines([f"model-analyzer: compared with the baseline {baseline} (measured in this run): "
                                     "* passed, 0 failed, *"])
    for item in run.items:
        # junit: the candidate's figures and the baseline's, each a property of its own.
        assert float(item.properties["baseline_perf_throughput"]) > 0
        assert float(item.properties["perf_throughput"]) > 0
        assert item.measurement is not None and item.measurement["baseline"]["from"] == str(baseline)
        comparison = json.loads(item.properties["ma_comparison"])
        assert comparison["results"][0]["paired"] and comparison["results"][0]["verdict"] in ("pass", "inconclusive")
    # The checkpoint keeps both sides of every pair, marked with where the baseline came from.
    stored = json.loads((pytester.path / "checkpoints" / "0.ckpt").read_text())["measurements"]
    assert stored and all(row["baseline"]["from"] == str(baseline) and row["baseline"]["order"] for row in stored)
    # Both orders occur: neither side always runs first.
    assert {order for row in stored for order in row["baseline"]["order"]} == {"AB", "BA"}


def test_a_slower_candidate_fails_every_point_and_the_summary_shows_both_sides(run_profile, model_repo,
                                                                               tmp_path: Path, monkeypatch) -> None:
    candidate, baseline = two_versions(model_repo, tmp_path, 23)  # 15% slower: throughput 0.87x
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = run_profile(SUITE.format(repo=candidate), f"--ma-baseline-repository={baseline}", GATE)
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert [item.outcome for item in run.items] == ["failed"] * 9, run.result.stdout.str()
    pattern = re.compile(MESSAGE.pattern.format(name=re.escape(str(baseline))))
    for item in run.items:
        assert pattern.search(item.message), item.message
        assert "config changed since the baseline" in item.message
    # sleep_config_0 has the default's config: it carries the default's measurement and fails with it, with
    # the same figures.
    default = {i.nodeid.split("::")[-1]: i.message.splitlines()[0] for i in run.by_name("sleep_config_default")}
    same = {i.nodeid.split("::")[-1]: i.message.splitlines()[0] for i in run.by_name("sleep_config_0")}
    assert {k: v.split(" [")[0] for k, v in default.items()} == {k: v.split(" [")[0] for k, v in same.items()}
    # The job summary: per point the baseline, the candidate, the change and the same interval as the item's.
    text = summary.read_text()
    assert f"### Changes against the baseline `{baseline}`, measured in the same run" in text
    first = run.by_name("sleep_config_1")[0]
    interval = re.search(r"\(95% CI (-\d+\.\d%) to (-\d+\.\d%)\)", first.message)
    assert interval is not None
    assert re.search(rf"\| fail \| sleep / sleep_config_1 \(batch 1, concurrency 1\) \| perf_throughput \| "
                     rf"[\d.]+ \| [\d.]+ \| \d \| -\d+\.\d% \| {interval[1]} to {interval[2]} \| 5% \|", text), text


def test_the_baseline_comes_from_a_git_revision_and_the_working_tree_is_untouched(run_profile, model_repo) -> None:
    repo = model_repo("sleep")
    git = ["git", "-C", str(repo.parent), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "models"], check=True)
    subprocess.run([*git, "commit", "-qm", "baseline"], check=True)
    set_sleep(repo, 23)  # the pull request: uncommitted, slower
    edited = (repo / "sleep" / "config.pbtxt").read_text()
    body = SUITE.format(repo=repo).replace("concurrency: [1, 2, 4]", "concurrency: [1, 2, 3, 4]")
    body = body.replace("[[{kind: KIND_CPU, count: 1}], ", "[")
    run = run_profile(body, "--ma-baseline-rev=HEAD", GATE)
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert [item.outcome for item in run.items] == ["failed"] * 8, run.result.stdout.str()
    for item in run.items:
        assert re.search(MESSAGE.pattern.format(name="HEAD"), item.message), item.message
        assert item.measurement is not None and re.fullmatch(r"HEAD \([0-9a-f]{12}\)",
                                                             item.measurement["baseline"]["from"])
    assert (repo / "sleep" / "config.pbtxt").read_text() == edited
    status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "models"], capture_output=True,
                            text=True, check=True).stdout
    assert status == " M models/sleep/config.pbtxt\n"  # the pull request's edit, and nothing else


def loaded_at_once(log: str) -> int:
    """The most models the server held at once, from its log's load and unload lines."""
    held, most = set(), 0
    for what, name in re.findall(r"successfully (loaded|unloaded) '([^']+)'", log):
        (held.add if what == "loaded" else held.discard)(name)
        most = max(most, len(held))
    return most


def test_swap_mode_holds_one_side_at_a_time(run_profile, model_repo, tmp_path: Path) -> None:
    # (Side by side holds both: test_an_unchanged_candidate_passes_with_both_sides_in_its_report.)
    candidate, baseline = two_versions(model_repo, tmp_path, 20)
    log = tmp_path / "server.log"
    body = SUITE.format(repo=candidate).replace("[[{kind: KIND_CPU, count: 1}], ", "[").replace(
        "concurrency: [1, 2, 4]", "concurrency: [1, 2, 3]") + f"triton_output_path: {log}\n"
    run = run_profile(body, f"--ma-baseline-repository={baseline}", GATE, "--ma-baseline-swap")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    assert len(run.items) == 6 and {item.outcome for item in run.items} == {"passed"}
    text = log.read_text()
    assert loaded_at_once(text) == 1, text
    # Swapping unloads the baseline whenever the candidate's trial follows it (ABBA: about every other pair).
    assert text.count("successfully unloaded 'sleep__baseline'") >= 3, text


def test_an_ensemble_is_compared_with_its_own_composing_models(run_profile, model_repo, tmp_path: Path) -> None:
    candidate = model_repo("add", "sleep", "add_sleep")
    baseline = tmp_path / "baseline"
    subprocess.run(["cp", "-r", str(candidate), str(baseline)], check=True)
    set_sleep(candidate, 26)  # the candidate's composing sleep model is slower: the ensemble's throughput drops
    body = f"""
model_repository: {candidate}
run_config_search_disable: true
profile_models: add_sleep
concurrency: [1, 2, 3, 4, 6]
skip_summary_reports: true
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}}
"""
    run = run_profile(body, f"--ma-baseline-repository={baseline}", GATE)
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert [item.outcome for item in run.items] == ["failed"] * 5, run.result.stdout.str()
    for item in run.items:
        assert "vs baseline" in item.message and "same run" in item.message, item.message


def test_a_resumed_run_measures_only_the_pairs_it_lacks(run_profile, model_repo, tmp_path: Path) -> None:
    candidate, baseline = two_versions(model_repo, tmp_path, 20)
    body = SUITE.format(repo=candidate)
    first = run_profile(body, f"--ma-baseline-repository={baseline}", GATE)
    assert first.result.ret == pytest.ExitCode.OK, first.result.stdout.str()
    again = run_profile(body, f"--ma-baseline-repository={baseline}", GATE, "-v")
    assert again.result.ret == pytest.ExitCode.OK, again.result.stdout.str()
    again.result.stdout.fnmatch_lines(["model-analyzer: * measurements taken from 0.ckpt, not measured again"])
    for before, after in zip(first.items, again.items, strict=True):
        assert after.measurement is not None and before.measurement is not None
        assert after.measurement["baseline"]["order"][:len(before.measurement["baseline"]["order"])] == \
            before.measurement["baseline"]["order"]
    # An edit of the baseline makes its stored pairs stale: everything is measured again.
    set_sleep(baseline, 21)
    third = run_profile(body, f"--ma-baseline-repository={baseline}", GATE)
    assert "not measured again" not in third.result.stdout.str()


# A perf_analyzer that notes when it started and ended, on which CPUs, for which model (`-m`), around the real one.
TIMED = """#!/bin/sh
echo "start $(date +%s.%N) $(grep Cpus_allowed_list /proc/$$/status | cut -f2) $*" >> {log}
{perf_analyzer} "$@"
status=$?
echo "end $(date +%s.%N) - $*" >> {log}
exit $status
"""


def runs_of(log: str) -> list[tuple[str, float, float, str]]:
    """(model, start, end, CPUs) of each perf_analyzer run the timing wrapper noted, in the order they started."""
    opened: dict[str, tuple[float, str]] = {}
    runs = []
    for line in log.splitlines():
        what, when, cpus, *arguments = line.split()
        if "-m" not in arguments:
            continue  # the plugin asking for its --help
        model = arguments[arguments.index("-m") + 1]
        key = " ".join(arguments)  # each run's arguments are its own: its CSV path is unique
        if what == "start":
            opened[key] = (float(when), cpus)
        else:
            start, allowed = opened.pop(key)
            runs.append((model, start, float(when), allowed))
    return sorted(runs, key=lambda run: run[1])


def test_a_duet_measures_both_sides_at_once_and_catches_a_slower_candidate(run_profile, model_repo,
                                                                          tmp_path: Path) -> None:
    candidate, baseline = two_versions(model_repo, tmp_path, 23)  # 15% slower: throughput 0.87x
    stubs = tmp_path / "stub_cpus.log"  # each side's backend stub notes the CPUs it may use
    for side in (candidate, baseline):
        with (side / "sleep" / "1" / "model.py").open("a") as code:
            code.write(f"\nimport os as _os\nwith open({str(stubs)!r}, 'a') as _log:\n"
                       "    _log.write(' '.join(map(str, sorted(_os.sched_getaffinity(0)))) + '\\n')\n")
    timing = tmp_path / "perf_analyzer_runs.log"
    wrapper = tmp_path / "timed_perf_analyzer"
    wrapper.write_text(TIMED.format(log=timing, perf_analyzer=Path(sys.executable).parent / "perf_analyzer"))
    wrapper.chmod(0o755)
    body = SUITE.format(repo=candidate).replace("[[{kind: KIND_CPU, count: 1}], ", "[").replace(
        "concurrency: [1, 2, 4]", "concurrency: [1, 2, 3]") + f"perf_analyzer_path: {wrapper}\n"
    run = run_profile(body, f"--ma-baseline-repository={baseline}", GATE, "--ma-baseline-duet")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED, run.result.stdout.str()
    assert [item.outcome for item in run.items] == ["failed"] * 6, run.result.stdout.str()
    pattern = re.compile(MESSAGE.pattern.format(name=re.escape(str(baseline))))
    for item in run.items:
        assert pattern.search(item.message), item.message
        assert item.measurement is not None
        assert set(item.measurement["baseline"]["order"]) <= {"A|B", "B|A"}
    # Every pair is two perf_analyzers, the candidate's and the baseline's, running at the same time; the
    # user's stability-percentage gives way to the duet's fixed windows.
    runs = runs_of(timing.read_text())
    pairs = [runs[index:index + 2] for index in range(0, len(runs), 2)]
    assert pairs and all(len(pair) == 2 for pair in pairs), runs
    for (first, start, end, _), (second, other_start, other_end, _) in pairs:
        assert {first, second} == {"sleep", "sleep__baseline"}, runs
        # Sequential runs would not overlap at all; a start can lag by a process spawn on a busy machine.
        overlap = min(end, other_end) - max(start, other_start)
        assert overlap > 0.5 * max(end - start, other_end - other_start), runs
    assert "stability-percentage=1000" in timing.read_text()
    # The server's whole process tree, both sides' stubs, shares one core; perf_analyzer runs on the others.
    cores = set(stubs.read_text().split())
    assert len(cores) == 1 and len(stubs.read_text().splitlines()) >= 4, stubs.read_text()
    client = {cpus for *_, cpus in runs}
    if len(os.sched_getaffinity(0)) > 1:
        assert len(client) == 1 and cores.isdisjoint(client.pop().replace("-", ",").split(",")), client
