"""The pytest layer, and the plugin's entry point (`pytest11: model_analyzer`): options, the plugin's own
hooks, configure-time validation, collection of the profile and the fixtures.

Rooms: command_line.py (flags, ini, checkpoints and baseline read at configure time), hookspec.py (the
`pytest_ma_*` hooks), session.py (run state), lifecycle.py (saving, reports, end of run), terminal_summary.py
(everything printed), interrupts.py (Ctrl-C), xdist/ (pytest-xdist: workers, scheduler, work units),
collect.py (the item tree), fixtures.py (server, monitor, measurer, measurement), wiring.py (builds the
run's objects, each given its collaborators), offline_reports.py
(--ma-history, --ma-report without a server). Nothing below this package imports pytest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_model_analyzer.analysis.regression import Reference
from pytest_model_analyzer.config.loader import load_profile
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.infra.versions import CandidateOnly, Versions
from pytest_model_analyzer.plugin import hookspec
from pytest_model_analyzer.plugin.command_line import (
    add_options,
    baseline,
    cli_overrides,
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
from pytest_model_analyzer.plugin.server_choice import SERVER_KEY, local_server
from pytest_model_analyzer.plugin.session import SESSION_KEY
from pytest_model_analyzer.plugin.wiring import build_session
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
    versions: Versions = CandidateOnly()
    if paired is not None:
        compare_with, versions = paired
        config.add_cleanup(versions.close)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No test paths given: collect the profile alone, no test files needed.
        config.args = [str(profile.source)]
    session = build_session(config, profile, store, imported, compare_with, versions)
    config.stash[SESSION_KEY] = session
    for recovery in recovered:
        session.facts.note(f"recovered {recovery.measurements} measurements of a run that was killed from its "
                           f"journal into {recovery.checkpoint.name}")
    for text in profile.warnings:
        config.issue_config_time_warning(pytest.PytestConfigWarning(f"model-analyzer: {text}"), stacklevel=2)


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
