"""The baseline version of the profiled models, for an A/B run on one server (analysis/ab.py decides).

`--ma-baseline-repository PATH` names a model repository that holds the baseline version of the profiled models
under the same names; `--ma-baseline-rev REV` takes them from git revision REV of the git repository that holds
`model_repository`, extracted with `git archive` into a directory of the run's own (the working tree is never
touched). Either way the run stages a second model repository, which the local server serves beside the
candidate's: each baseline model as `<model>__baseline`, its config.pbtxt renamed (an ensemble's steps call the
baseline's composing models), its other files linked. Both versions are then loaded side by side; with
`--ma-baseline-swap` only one side is loaded at a time (a model too large to hold twice); with
`--ma-baseline-duet` both sides are measured at the same time (`PairMode`, infra/versions.py).

Each profiled model gets a key: a digest of both sides' model files, and the mode for a duet (whose pairs scatter
otherwise than sequential ones). A stored pair (a resumed or killed run) is reused only while its key matches, so
an edit of either side measures again.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_model_analyzer.analysis.regression import RegressionCheck
from pytest_model_analyzer.config.flags import counts_requests
from pytest_model_analyzer.config.model_config import ModelConfigError, read_model_config
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.config.values import files_digest
from pytest_model_analyzer.domain.errors import PluginError
from pytest_model_analyzer.domain.metrics import metric_of
from pytest_model_analyzer.infra.leftovers import owned_temp_dir
from pytest_model_analyzer.infra.model_directory import to_pbtxt
from pytest_model_analyzer.infra.versions import (
    UNPLACED,
    CpuPlacement,
    PairedMeasurer,
    PairMode,
    PointMeasurer,
    one_core_for_the_server,
)

if TYPE_CHECKING:
    from pytest_model_analyzer.infra.measurer import Measurer

SERVED_SUFFIX = "__baseline"
GIT_TIMEOUT_S = 120.0


class BaselineError(PluginError):
    """The baseline cannot be had; the message names the option and the value."""


@dataclass(frozen=True)
class Pairing:
    """What an A/B run knows of its baseline: where it came from, the staged repository, how each model's
    baseline is served, and which profiled models it lacks (measured, reported as new, not gated). The run's
    `Versions` (infra/versions.py)."""

    name: str  # as the user gave it (`origin/main`, a path): how messages name the baseline
    source: str  # in words, with the commit for a revision: `origin/main (3f2a1b0c9d1e)`
    repository: Path  # the staged repository the local server serves beside the candidate's
    served_as: Mapping[str, str]  # each loaded model -> its baseline's name on the server
    base_configs: Mapping[str, Mapping[str, Any]]  # each loaded model -> the baseline's config.pbtxt
    keys: Mapping[str, str]  # each profiled model -> the digest of both sides' model files
    missing: tuple[str, ...]  # profiled models the baseline lacks
    mode: PairMode  # how a pair is taken: one side after the other (both held, or one at a time), or at once
    workdir: Path  # everything this pairing wrote; removed by close()

    @property
    def repositories(self) -> tuple[Path, ...]:
        return (self.repository,)

    @property
    def one_side_at_a_time(self) -> bool:
        return self.mode.one_side_at_a_time

    def measurer(self, measurer: Measurer) -> PointMeasurer:
        """Each measurement of a point a pair: the baseline's and the candidate's."""
        return PairedMeasurer(measurer, self)

    def placement(self, slot: int | None) -> CpuPlacement:
        """A duet's server on one core of its own (`one_core_for_the_server`); otherwise no placement."""
        return one_core_for_the_server(os.sched_getaffinity(0), slot) if self.mode is PairMode.DUET else UNPLACED

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def paired_baseline_problem(profile: ProfileConfig) -> str:
    """Why this profile cannot be measured against a baseline in the same run; '' when it can."""
    if profile.run.triton_launch_mode != "local":
        return (f"an A/B run serves the baseline beside the candidate on a server of its own; triton_launch_mode "
                f"is {profile.run.triton_launch_mode} (use local)")
    if not profile.run.model_repository:
        return "model_repository is not set"
    if profile.run.reload_model_disable:
        return "reload_model_disable is set, but an A/B run loads both versions"
    for model in profile.models:
        if model.composing and not model.members and not model.is_ensemble:
            return (f"`{model.name}` is a BLS model: its code calls its composing models by name, so its baseline "
                    "cannot be served beside it (not supported yet)")
    return ""


def duet_problem(profile: ProfileConfig, checks: Sequence[RegressionCheck]) -> str:
    """Why this profile's pairs cannot be measured as a duet (both sides at once); '' when they can."""
    for model in profile.models:
        if counts_requests(model.perf_analyzer_flags):
            return (f"both sides are measured over the same time windows, and `{model.name}`'s perf_analyzer_flags "
                    "count requests (measurement-mode: count_windows, Model Analyzer's default when no flags are "
                    "given): set measurement-mode: time_windows and a measurement-interval")
        if model.constraints or profile.constraints:
            return (f"each side is measured under the other's load, and the constraints of `{model.name}` would "
                    "judge those figures: drop the constraints, or measure the pairs one side after the other")
    for check in checks:
        metric = metric_of(check.metric)
        if metric is not None and metric.machine_wide:
            return (f"--ma-compare-fail gates on {check.metric}, a figure of the whole server, which both sides of "
                    "a duet share")
    return ""


def _git(arguments: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise BaselineError("--ma-baseline-rev: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise BaselineError(f"--ma-baseline-rev: git {arguments[0]} took over {GIT_TIMEOUT_S:g} s in {cwd}") from None


def extract_revision(rev: str, candidate: Path, target: Path) -> tuple[Path, str]:
    """The model repository as it was at `rev`, extracted under `target`, and the commit in words."""
    flag = "--ma-baseline-rev"
    found = _git(["rev-parse", "--show-toplevel"], candidate)
    if found.returncode != 0:
        raise BaselineError(f"{flag}: the model repository {candidate} is not inside a git repository")
    top = Path(found.stdout.strip()).resolve()
    commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    if commit.returncode != 0 or not commit.stdout.strip():
        raise BaselineError(f"{flag}: `{rev}` is not a revision git knows in {top}")
    sha = commit.stdout.strip()
    relative = candidate.resolve().relative_to(top)
    archive = target / f"{sha}.tar"
    made = _git(["archive", "--format=tar", f"--output={archive}", sha, "--", str(relative) if relative.parts else "."],
                top)
    if made.returncode != 0:
        said = made.stderr.strip().splitlines()[-1] if made.stderr.strip() else "git archive failed"
        raise BaselineError(f"{flag}: `{rev}` has no {relative or 'model repository'} ({said})")
    tree = target / "tree"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tree, filter="data")
        else:  # pragma: no cover - Python before 3.11.4; git archive writes no links outside the tree
            tar.extractall(tree)
    archive.unlink()
    return tree / relative, f"{rev} ({sha[:12]})"


def _is_model_repository(path: Path) -> bool:
    return path.is_dir() and any((entry / "config.pbtxt").is_file() or (entry / "1").is_dir()
                                 for entry in path.iterdir() if entry.is_dir())


def _stage_model(source: Path, target: Path, config: dict[str, Any]) -> None:
    target.mkdir(parents=True)
    (target / "config.pbtxt").write_text(to_pbtxt(config), encoding="utf-8")
    for entry in source.iterdir():
        if entry.name != "config.pbtxt":
            (target / entry.name).symlink_to(entry.resolve())


def open_pairing(*, repository: str | None, rev: str | None, candidate: Path,
                 models: Sequence[tuple[str, Sequence[str]]], mode: PairMode = PairMode.SIDE_BY_SIDE) -> Pairing:
    """Stage the baseline. `models`: each profiled model with the models its measurement loads (itself, an
    ensemble's or BLS model's composing models, or the members of models profiled together)."""
    if repository and rev:
        raise BaselineError("--ma-baseline-repository and --ma-baseline-rev: give one baseline, not both")
    workdir = owned_temp_dir("baseline")
    try:
        if rev:
            source_repository, source = extract_revision(rev, candidate, workdir)
            flag, name = "--ma-baseline-rev", rev
            if not _is_model_repository(source_repository):
                raise BaselineError(f"{flag}: at `{rev}`, {source_repository.name} is not a model repository "
                                    "(no model directory in it)")
        else:
            assert repository is not None
            source_repository, source, flag, name = Path(repository), repository, "--ma-baseline-repository", repository
            if not _is_model_repository(source_repository):
                raise BaselineError(f"{flag}: {repository} is not a model repository (no model directory with a "
                                    "config.pbtxt or a version folder in it)")
        return _stage(flag, name, source, source_repository.resolve(), candidate, models, mode, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _stage(flag: str, name: str, source: str, baseline: Path, candidate: Path,
           models: Sequence[tuple[str, Sequence[str]]], mode: PairMode, workdir: Path) -> Pairing:
    staged = workdir / "repository"
    staged.mkdir()
    loaded = sorted({model for _, names in models for model in names})
    present = {model for model in loaded if (baseline / model).is_dir()}
    served_as = {model: f"{model}{SERVED_SUFFIX}" for model in present}
    for model, served in served_as.items():
        if (candidate / served).exists():
            raise BaselineError(f"{flag}: the baseline of `{model}` would be served as `{served}`, a name the "
                                f"candidate repository {candidate} already has: rename that model")
    base_configs: dict[str, dict[str, Any]] = {}
    for model in sorted(present):
        try:
            config = read_model_config(baseline, model)
        except ModelConfigError as exc:
            raise BaselineError(f"{flag}: {name}: {exc}") from None
        base_configs[model] = config
        config = {**copy.deepcopy(config), "name": served_as[model]}
        steps = config.get("ensemble_scheduling", {}).get("step", [])
        for step in steps:  # an ensemble's steps call the baseline's own composing models
            step["model_name"] = served_as.get(step.get("model_name", ""), step.get("model_name", ""))
        _stage_model(baseline / model, staged / served_as[model], config)
    keys, missing = {}, []
    for model, names in models:
        if not all(loaded_name in present for loaded_name in names):
            missing.append(model)
            continue
        digest = files_digest([*(candidate / n for n in names), *(baseline / n for n in names)])
        keys[model] = f"{digest}+duet" if mode is PairMode.DUET else digest
    return Pairing(name=name, source=source, repository=staged, served_as=served_as, base_configs=base_configs,
                   keys=keys, missing=tuple(missing), mode=mode, workdir=workdir)

