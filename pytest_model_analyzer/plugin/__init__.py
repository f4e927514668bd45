"""The pytest layer, and the plugin's entry point (`pytest11: model_analyzer`): options, the plugin's own
hooks, configure-time validation, collection of the profile and the fixtures.

Rooms: command_line.py (flags, ini, checkpoints and baseline read at configure time), hookspec.py (the
`pytest_ma_*` hooks), session.py (run state), lifecycle.py (saving, reports, end of run), terminal_summary.py
(everything printed), interrupts.py (Ctrl-C), xdist/ (pytest-xdist: workers, scheduler, work units),
collect.py (the item tree), fixtures.py (server, monitor, measurer, measurement), offline_reports.py
(--ma-history, --ma-report without a server). Nothing below this package imports pytest.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from pytest_model_analyzer.analysis.regression import Reference
from pytest_model_analyzer.config.loader import load_profile
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.plugin import hookspec
from pytest_model_analyzer.plugin.command_line import (
    add_options,
    baseline,
    cli_overrides,
    drift_allowance,
    open_checkpoints,
    paired_baseline,
    profile_path,
)
from pytest_model_analyzer.plugin.fixtures import (  # noqa: F401  (pytest finds fixtures on the plugin module)
    ma_measurement,
    ma_measurer,
    ma_monitor,
    ma_runtime,
    ma_server,
    ma_session,
)
from pytest_model_analyzer.plugin.interrupts import InterruptHooks
from pytest_model_analyzer.plugin.lifecycle import RunHooks
from pytest_model_analyzer.plugin.server_choice import SERVER_KEY, local_server
from pytest_model_analyzer.plugin.session import SESSION_KEY, ModelAnalyzerSession
from pytest_model_analyzer.plugin.terminal_summary import TerminalHooks
from pytest_model_analyzer.plugin.xdist.workers import ControllerHooks, is_worker, planned_workers
from pytest_model_analyzer.plugin.xdist.workload import Workload
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.resolver import PointResolver
from pytest_model_analyzer.results.saving import CheckpointKeeper
from pytest_model_analyzer.search.plan import plan_profile


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """`--ma-history` and `--ma-report`: reports from the checkpoint directory's files alone, instead of a run."""
    history = config.getoption("ma_history", default=False)
    report = config.getoption("ma_report", default=None)
    if not history and report is None:
        return None
    flag = "--ma-history" if history else "--ma-report"
    path = profile_path(config)
    if path is None:
        raise pytest.UsageError(f"{flag} needs the profile (--ma-config) whose checkpoints it reads")
    try:
        profile = load_profile(path, cli=cli_overrides(config), cwd=Path.cwd())
    except ConfigError as exc:
        raise pytest.UsageError(f"{path}: {exc}") from None
    if history:
        from pytest_model_analyzer.plugin.offline_reports import write_history

        lines = write_history(profile)
    else:
        from pytest_model_analyzer.plugin.offline_reports import chosen_configs, write_detailed_reports

        lines = write_detailed_reports(profile, chosen_configs(report, profile))
    for line in lines:
        print(f"model-analyzer: {line}")
    return int(pytest.ExitCode.OK)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = profile_path(config)
    if path is None:
        return
    try:
        from pytest_model_analyzer.infra.monitor import gpu_inventory

        gpus = gpu_inventory()
        profile = plan_profile(load_profile(path, cli=cli_overrides(config), cwd=Path.cwd(),
                                            gpus_available=bool(gpus)))
    except ConfigError as exc:
        raise pytest.UsageError(f"{path}: {exc}") from None
    server = local_server(profile, path)
    if server:
        config.stash[SERVER_KEY] = server
    store, imported, recovered = (None, [], []) if config.option.collectonly else open_checkpoints(
        config, profile.run.checkpoint_directory)
    if store is not None:
        from pytest_model_analyzer.infra.testbed import fingerprint

        store.testbed = fingerprint(gpus, server)
    compare_with: Reference | None = baseline(config, store)
    paired = paired_baseline(config, profile)
    pairing = None
    if paired is not None:
        compare_with, pairing = paired
        config.add_cleanup(pairing.close)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No test paths given: collect the profile alone, no test files needed.
        config.args = [str(profile.source)]
    # A comparison against a baseline measures everything again: reusing stored points would compare the
    # baseline with itself.
    # An A/B run reuses only stored pairs of the same baseline and candidate (a resumed or killed run).
    stored: Iterable[Measurement] = store.loaded.values() if store is not None and compare_with is None else ()
    if store is not None and pairing is not None:
        stored = [measurement for measurement in store.loaded.values() if pairing.reusable(measurement)]
    stored_from = store.loaded_from.name if store is not None and store.loaded_from else "checkpoint"
    ledger = Ledger(stored, stored_from, imported)
    resolver = PointResolver(ledger, first_trials_ahead=compare_with is not None, ahead_by_variant=is_worker(config))
    # Where the run's checkpoint goes when its directory cannot take it (a full disk).
    rescue_places = [profile.run.export_path, Path(tempfile.gettempdir())]
    keeper = CheckpointKeeper(store, ledger, writes=not is_worker(config), rescue_places=rescue_places)
    ledger.on_new = keeper.keep
    interrupts = InterruptHooks(config, keeper)
    keeper.on_cannot_keep = interrupts.request_stop
    session = ModelAnalyzerSession(config, profile, resolver, keeper, interrupts.handler, compare_with, pairing,
                                   drift_allowed=drift_allowance(config))
    config.stash[SESSION_KEY] = session
    for recovery in recovered:
        session.facts.note(f"recovered {recovery.measurements} measurements of a run that was killed from its "
                           f"journal into {recovery.checkpoint.name}")
    controller = _plan_workers(config, profile, session)
    interrupts.controller = controller
    config.pluginmanager.register(interrupts, "model_analyzer_interrupts")
    config.pluginmanager.register(RunHooks(session, controller), "model_analyzer_run")
    config.pluginmanager.register(TerminalHooks(session), "model_analyzer_terminal")
    for text in profile.warnings:
        config.issue_config_time_warning(pytest.PytestConfigWarning(f"model-analyzer: {text}"), stacklevel=2)


def _plan_workers(config: pytest.Config, profile: ProfileConfig,
                  session: ModelAnalyzerSession) -> ControllerHooks | None:
    """Under pytest-xdist: one variant per worker, and one server and GPU (or endpoint) per worker."""
    from pytest_model_analyzer.infra.monitor import gpu_inventory

    workers = planned_workers(config)
    if workers == 0 or config.option.collectonly:
        return None
    if config.option.dist in ("no", "load"):
        config.option.dist = "loadscope"  # a variant's items stay on one worker: loaded once, measured alike
    slots = workers
    if profile.run.triton_launch_mode == "remote":
        endpoints = profile.run.triton_grpc_endpoints or [profile.run.triton_grpc_endpoint]
        if workers > len(endpoints):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(endpoints)} remote server(s); measurements sharing a "
                "server disturb each other: list one per worker in triton_grpc_endpoints/triton_http_endpoints")
        slots = len(endpoints)
    elif profile.gpu_bound:
        gpus = gpu_inventory(profile.run.gpus)
        if workers > len(gpus):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(gpus)} GPU(s) selected by `gpus`; measurements sharing "
                "a GPU are wrong: use at most one worker per GPU")
        slots = len(gpus)
    elif workers > (os.cpu_count() or 1):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"model-analyzer: -n {workers} on {os.cpu_count()} CPU cores: each worker runs a server and "
            "perf_analyzer, so the measurements will compete for the cores"), stacklevel=2)
    controller = ControllerHooks(session.facts, slots, lambda: _workload(session))
    config.pluginmanager.register(controller, "model_analyzer_xdist")
    return controller


def _workload(session: ModelAnalyzerSession) -> Workload:
    from pytest_model_analyzer.config.points import profile_points
    from pytest_model_analyzer.plugin.xdist.workload import plan_workload

    return plan_workload(profile_points(session.profile), session.ledger.is_stored)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    session = parent.config.stash.get(SESSION_KEY, None)
    if session is None or session.profile.source is None:
        return None
    if file_path.resolve() != session.profile.source:
        return None
    from pytest_model_analyzer.plugin.collect import ProfileFile

    node = ProfileFile.from_parent(parent, path=file_path)
    node.profile = session.profile
    node.search = session.resolver.search
    return node
