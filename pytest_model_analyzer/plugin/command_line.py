"""The plugin's command-line and ini options, and what configure-time reads from them: the profile path,
the command-line overrides, the checkpoints (latest and imported) and the baseline to compare with.

Every problem here is a pytest usage error with one line naming the option, key or file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.analysis.ab import PairedBaseline
from pytest_model_analyzer.analysis.regression import Baseline, parse_checks
from pytest_model_analyzer.config.options import HELP_TOPICS, OPTIONS, help_topic
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.baseline import (
    BaselineError,
    Pairing,
    duet_problem,
    open_pairing,
    paired_baseline_problem,
)
from pytest_model_analyzer.infra.checkpoint import (
    CheckpointError,
    CheckpointStore,
    check_writable,
)
from pytest_model_analyzer.infra.journal import Recovery, recover
from pytest_model_analyzer.infra.testbed import differences
from pytest_model_analyzer.infra.versions import PairMode
from pytest_model_analyzer.plugin.xdist.workers import is_worker


def add_options(parser: pytest.Parser) -> None:
    """The `--ma-*` options under the headings of HELP_TOPICS (`pytest --help` shows each group apart, in order):
    the plugin's own first in each, then the profile options that may be given on the command line."""
    groups = {topic: parser.getgroup(f"model-analyzer {topic}", f"model-analyzer: {topic}") for topic in HELP_TOPICS}
    groups["profile"].addoption("--ma-config", dest="ma_config", metavar="PATH", default=None,
                    help="Model Analyzer-style profile YAML; its measurement points become the items")
    groups["checkpoints"].addoption("--ma-fresh", action="store_true", default=False,
                    help="ignore earlier checkpoints (they stay on disk); measure everything again")
    groups["checkpoints"].addoption("--ma-import-checkpoint", metavar="PATH", default=None,
                    help="read a Triton Model Analyzer .ckpt: its measurements are reused, gated and reported")
    groups["gates and baselines"].addoption("--ma-compare", metavar="N", nargs="?", const="latest", default=None,
                    help="compare every point with checkpoint N (default: the latest before this run); "
                         "everything is measured again")
    groups["gates and baselines"].addoption("--ma-compare-fail", metavar="SPEC", default=None,
                    help="fail points that regressed against --ma-compare by more than this, and significantly, "
                         "e.g. perf_throughput:5%%,perf_latency_p99:10%%")
    groups["gates and baselines"].addoption("--ma-compare-same-testbed", action="store_true", default=False,
                    help="refuse to compare with a baseline measured on another testbed (CPU, GPUs, driver) "
                         "instead of warning")
    groups["gates and baselines"].addoption("--ma-baseline-repository", metavar="PATH", default=None,
                    help="A/B in one run: measure every point on the baseline version of the models in this model "
                         "repository (same names) and on the candidate, alternately on one server; gate with "
                         "--ma-compare-fail")
    groups["gates and baselines"].addoption("--ma-baseline-rev", metavar="REV", default=None,
                    help="A/B in one run, the baseline taken from git revision REV (e.g. origin/main) of the git "
                         "repository holding model_repository; the working tree is not touched")
    groups["gates and baselines"].addoption("--ma-baseline-swap", action="store_true", default=False,
                    help="A/B: load one side at a time (models too large to hold twice) instead of both side by "
                         "side")
    groups["gates and baselines"].addoption("--ma-baseline-duet", action="store_true", default=False,
                    help="A/B: measure both sides of each pair at the same time, two perf_analyzers over the same "
                         "windows, the server on one core, so that a noisy neighbour disturbs both alike (CPU-bound "
                         "models on shared runners; not a GPU model whose sides would contend for one GPU)")
    groups["gates and baselines"].addoption("--ma-fail-if-not-best", metavar="PERCENT", default=None,
                    help="fail the run when a model's shipped config (<model>_config_default) is more than PERCENT "
                         "worse than the best config found, or breaks constraints the best meets; the run writes "
                         "the config.pbtxt change that adopts the best")
    groups["reports"].addoption("--ma-history", action="store_true", default=False,
                    help="write reports/history.html and history.csv from every checkpoint of the profile's "
                         "checkpoint directory (trends, change points, testbed changes), then stop: no server")
    groups["reports"].addoption("--ma-report", metavar="CONFIGS", nargs="?", const="", default=None,
                    help="write reports/detailed/<config>.html for each named configuration (comma list, e.g. "
                         "add_config_1,add_config_default; alone: the profile's report_model_configs) from the "
                         "latest checkpoint: latency breakdown, throughput and latency over the load; no server")
    groups["reports"].addoption("--ma-markdown", metavar="PATH", default=None,
                    help="write a Markdown summary of the run (best configs, failed gates, changes against the "
                         "baseline) to PATH; written to $GITHUB_STEP_SUMMARY too when that is set")
    parser.addini("ma_config", "profile YAML used when --ma-config is not given (relative to the ini file)",
                  default="")
    for option in OPTIONS.values():
        if not option.cli:
            continue
        text = option.help or option.key.replace("_", " ")
        if option.unsupported:
            text += f" [not supported yet: {option.unsupported}]"
        text = text.replace("%", "%%")  # argparse formats help with %: a literal "this %" must be doubled
        group = groups[help_topic(option.key)]
        if option.is_switch:
            group.addoption(option.flag, dest=f"ma_{option.key}", action="store_const", const=True,
                            default=None, help=text)
        else:
            group.addoption(option.flag, dest=f"ma_{option.key}", metavar="VALUE", default=None, help=text)


def profile_path(config: pytest.Config) -> Path | None:
    given = config.getoption("ma_config")
    if given:
        return Path(given)
    ini = config.getini("ma_config")
    if ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / str(ini)
    return None


def cli_overrides(config: pytest.Config) -> dict[str, Any]:
    return {key: value for key in OPTIONS
            if (value := config.getoption(f"ma_{key}", default=None)) is not None}


def open_checkpoints(config: pytest.Config,
                     directory: Path) -> tuple[CheckpointStore, list[Measurement], list[Recovery]]:
    """The latest checkpoint, read up front: a damaged one is a usage error before anything starts. First,
    the journals of killed runs become checkpoints (nothing they measured is lost, even with --ma-fresh,
    which then only ignores them)."""
    from pytest_model_analyzer.infra.ma_import import import_checkpoint

    try:
        # An xdist worker only reads (the controller writes, and turns journals into checkpoints); on a remote
        # host its directory is the copy xdist rsynced, or none.
        recovered = []
        if not is_worker(config):
            check_writable(directory)
            recovered = recover(directory)
        store = CheckpointStore(directory, fresh=config.getoption("ma_fresh"))
        source = config.getoption("ma_import_checkpoint")
        imported = import_checkpoint(Path(source)) if source else []
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    return store, imported, recovered


def baseline(config: pytest.Config, store: CheckpointStore | None) -> Baseline | None:
    """`--ma-compare[=N]` and `--ma-compare-fail`: the checkpoint to compare with, and the checks. A baseline
    from another testbed is warned about, or refused with `--ma-compare-same-testbed`."""
    which, spec = config.getoption("ma_compare"), config.getoption("ma_compare_fail")
    if which is None:
        if spec and not paired_baseline_given(config):
            raise pytest.UsageError("--ma-compare-fail needs --ma-compare (the checkpoint to compare with) or "
                                    "--ma-baseline-rev/--ma-baseline-repository (a baseline measured in this run)")
        return None
    if store is None:
        return None
    try:
        checks = parse_checks(spec) if spec else []
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if which == "latest":
        if store.loaded_index < 0:
            raise pytest.UsageError(f"--ma-compare: no checkpoint in {store.directory} to compare with")
        index = store.loaded_index
    elif which.isdigit():
        index = int(which)
    else:
        raise pytest.UsageError(f"--ma-compare: expected a checkpoint number, got `{which}`")
    try:
        path, found, testbed = store.checkpoint(index)
    except CheckpointError as exc:
        raise pytest.UsageError(f"--ma-compare: {exc}") from None
    measurements = {m.point_id: m for m in found}
    changed = differences(testbed, store.testbed)
    if changed:
        text = f"--ma-compare: {path.name} was measured on another testbed ({'; '.join(changed)})"
        if config.getoption("ma_compare_same_testbed"):
            raise pytest.UsageError(text + ": not compared (--ma-compare-same-testbed)")
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"model-analyzer: {text}; differences may come from the testbed, not from the change"), stacklevel=2)
    return Baseline(path.name, measurements, checks)


def drift_allowance(config: pytest.Config) -> float | None:
    """`--ma-fail-if-not-best=PERCENT` as a number of percent (`5` or `5%`), or None when not given."""
    given = config.getoption("ma_fail_if_not_best", default=None)
    if given is None:
        return None
    try:
        value = float(str(given).strip().rstrip("%"))
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise pytest.UsageError(f"--ma-fail-if-not-best: expected a percentage such as 5 or 5%, got `{given}`")
    return value


def paired_baseline_given(config: pytest.Config) -> bool:
    return bool(config.getoption("ma_baseline_repository", default=None)
                or config.getoption("ma_baseline_rev", default=None))


def pair_mode(config: pytest.Config) -> PairMode:
    """How an A/B run takes its pairs: `--ma-baseline-swap` or `--ma-baseline-duet`, not both."""
    swap = bool(config.getoption("ma_baseline_swap", default=False))
    duet = bool(config.getoption("ma_baseline_duet", default=False))
    if swap and duet:
        raise pytest.UsageError("--ma-baseline-swap and --ma-baseline-duet: a duet holds both sides at once, swap "
                                "one at a time; give one")
    return PairMode.SWAP if swap else PairMode.DUET if duet else PairMode.SIDE_BY_SIDE


def paired_baseline(config: pytest.Config, profile: ProfileConfig) -> tuple[PairedBaseline, Pairing] | None:
    """`--ma-baseline-repository` / `--ma-baseline-rev`: the baseline measured beside each point in this run
    (analysis/ab.py), staged for the server (infra/baseline.py), with the checks of `--ma-compare-fail`."""
    repository = config.getoption("ma_baseline_repository", default=None)
    rev = config.getoption("ma_baseline_rev", default=None)
    mode = pair_mode(config)
    if not repository and not rev:
        if mode is not PairMode.SIDE_BY_SIDE:
            raise pytest.UsageError(f"--ma-baseline-{mode.value} needs --ma-baseline-rev or --ma-baseline-repository")
        return None
    flag = "--ma-baseline-rev" if rev else "--ma-baseline-repository"
    if config.getoption("ma_compare", default=None) is not None:
        raise pytest.UsageError(f"{flag} and --ma-compare: compare with a baseline measured in this run or with a "
                                "checkpoint, not both")
    problem = paired_baseline_problem(profile)
    if problem:
        raise pytest.UsageError(f"{flag}: {problem}")
    spec = config.getoption("ma_compare_fail")
    try:
        checks = parse_checks(spec) if spec else []
        problem = duet_problem(profile, checks) if mode is PairMode.DUET else ""
        if problem:
            raise pytest.UsageError(f"--ma-baseline-duet: {problem}")
        pairing = open_pairing(repository=repository, rev=rev, candidate=profile.model_repository,
                               models=[(model.name, model.loaded_models) for model in profile.models], mode=mode)
    except (ConfigError, BaselineError) as exc:
        raise pytest.UsageError(str(exc)) from None
    return PairedBaseline(pairing.name, checks, pairing.keys), pairing
