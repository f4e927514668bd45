"""--ma-baseline-repository / --ma-baseline-rev: each bad input is one usage error naming the option and value
(with --collect-only: the baseline is staged at configure time either way, and nothing is measured)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import MODELS

SUITE = "model_repository: {repo}\nrun_config_search_disable: true\nprofile_models: {models}\nconcurrency: 1\n"


def repository(root: Path, *models: str) -> Path:
    repo = root / "models"
    for model in models:
        shutil.copytree(MODELS / model, repo / model)
    return repo


def usage_error(pytester: pytest.Pytester, write_profile, body: str, *args: str) -> str:
    path = write_profile(body)
    result = pytester.runpytest("--ma-config", str(path), "--collect-only", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.outlines
    errors = [line for line in result.errlines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.errlines
    assert "Traceback" not in "\n".join(result.outlines + result.errlines)
    return errors[0]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                   capture_output=True)


def test_a_path_that_is_not_a_model_repository(pytester: pytest.Pytester, write_profile) -> None:
    repo = repository(pytester.path, "sleep")
    (pytester.path / "empty").mkdir()
    body = SUITE.format(repo=repo, models="sleep")
    for given in ("nowhere", str(pytester.path / "empty")):
        error = usage_error(pytester, write_profile, body, f"--ma-baseline-repository={given}")
        assert f"--ma-baseline-repository: {given} is not a model repository" in error


def test_a_revision_git_does_not_know_and_a_repository_outside_git(pytester: pytest.Pytester, write_profile,
                                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = repository(tmp_path_factory.mktemp("no-git"), "sleep")
    error = usage_error(pytester, write_profile, SUITE.format(repo=outside, models="sleep"), "--ma-baseline-rev=HEAD")
    assert f"--ma-baseline-rev: the model repository {outside} is not inside a git repository" in error
    repo = repository(pytester.path, "sleep")
    git(pytester.path, "init", "-q")
    git(pytester.path, "add", "models")
    git(pytester.path, "commit", "-qm", "models")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep"),
                        "--ma-baseline-rev=no-such-branch")
    assert "--ma-baseline-rev: `no-such-branch` is not a revision git knows in" in error


def test_a_revision_without_the_model_repository(pytester: pytest.Pytester, write_profile) -> None:
    (pytester.path / "README").write_text("before the models\n")
    git(pytester.path, "init", "-q")
    git(pytester.path, "add", "README")
    git(pytester.path, "commit", "-qm", "first")
    repo = repository(pytester.path, "sleep")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep"), "--ma-baseline-rev=HEAD")
    assert "--ma-baseline-rev: `HEAD` has no models" in error


def test_a_baseline_together_with_a_checkpoint_comparison(pytester: pytest.Pytester, write_profile) -> None:
    repo = repository(pytester.path, "sleep")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep"),
                        f"--ma-baseline-repository={repo}", "--ma-compare=0")
    assert "--ma-baseline-repository and --ma-compare: compare with a baseline measured in this run or with a " \
           "checkpoint, not both" in error


def test_a_baseline_name_that_collides_with_a_candidate_model(pytester: pytest.Pytester, write_profile) -> None:
    repo = repository(pytester.path, "sleep")
    shutil.copytree(MODELS / "sleep", repo / "sleep__baseline")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep"),
                        f"--ma-baseline-repository={repo}")
    assert ("--ma-baseline-repository: the baseline of `sleep` would be served as `sleep__baseline`, a name the "
            f"candidate repository {repo} already has") in error


@pytest.mark.parametrize(("extra", "expected"), [
    ("triton_launch_mode: remote\n", "triton_launch_mode is remote (use local)"),
    ("reload_model_disable: true\n", "reload_model_disable is set"),
])
def test_a_profile_that_cannot_serve_both_versions(pytester: pytest.Pytester, write_profile, extra: str,
                                                   expected: str) -> None:
    repo = repository(pytester.path, "sleep")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep") + extra,
                        f"--ma-baseline-repository={repo}")
    assert error.startswith("ERROR: --ma-baseline-repository: ") and expected in error


def test_swap_and_gate_options_need_a_baseline(pytester: pytest.Pytester, write_profile) -> None:
    repo = repository(pytester.path, "sleep")
    body = SUITE.format(repo=repo, models="sleep")
    assert "--ma-baseline-swap needs --ma-baseline-rev or --ma-baseline-repository" in usage_error(
        pytester, write_profile, body, "--ma-baseline-swap")
    assert "--ma-baseline-duet needs --ma-baseline-rev or --ma-baseline-repository" in usage_error(
        pytester, write_profile, body, "--ma-baseline-duet")
    assert "--ma-compare-fail needs --ma-compare" in usage_error(pytester, write_profile, body,
                                                                 "--ma-compare-fail=perf_throughput:5%")


DUET_WINDOWS = "perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 300}\n"


@pytest.mark.parametrize(("extra", "args", "expected"), [
    (DUET_WINDOWS, ["--ma-baseline-swap"], "--ma-baseline-swap and --ma-baseline-duet: a duet holds both sides at "
                                           "once, swap one at a time; give one"),
    ("", [], "`sleep`'s perf_analyzer_flags count requests (measurement-mode: count_windows, Model Analyzer's "
             "default when no flags are given): set measurement-mode: time_windows and a measurement-interval"),
    (DUET_WINDOWS + "constraints: {perf_latency_p99: {max: 100}}\n", [],
     "the constraints of `sleep` would judge those figures"),
    (DUET_WINDOWS, ["--ma-compare-fail=cpu_used_ram:10%"],
     "--ma-compare-fail gates on cpu_used_ram, a figure of the whole server, which both sides of a duet share"),
])
def test_a_duet_refuses_what_it_cannot_measure_fairly(pytester: pytest.Pytester, write_profile, extra: str,
                                                      args: list[str], expected: str) -> None:
    repo = repository(pytester.path, "sleep")
    error = usage_error(pytester, write_profile, SUITE.format(repo=repo, models="sleep") + extra,
                        f"--ma-baseline-repository={repo}", "--ma-baseline-duet", *args)
    assert expected in error, error


def test_a_good_baseline_collects_and_leaves_nothing_staged(pytester: pytest.Pytester, write_profile) -> None:
    repo = repository(pytester.path, "sleep", "add")
    baseline = repository(pytester.path / "base", "sleep")  # `add` is new: measured, not gated
    path = write_profile(SUITE.format(repo=repo, models="sleep,add"))
    # This process's staging directories only (pma-baseline-<namespace>-<pid>-...): an A/B run of another test
    # beside this one (pytest -n 2) stages its own in the same /tmp.
    staged, ours = Path(tempfile.gettempdir()), f"pma-baseline-*-{os.getpid()}-*"
    before = set(staged.glob(ours))
    result = pytester.runpytest("--ma-config", str(path), "--collect-only", "-q",
                                f"--ma-baseline-repository={baseline}", "--ma-compare-fail=perf_throughput:5%")
    assert result.ret == pytest.ExitCode.OK, result.outlines
    assert set(staged.glob(ours)) == before
