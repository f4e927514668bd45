"""Builds a run's objects, each handed its collaborators when it is made, in the one order that lets it: the
stop request first (the journal asks for it when the disk is full), then the journal, the ledger that tells
it every new measurement, the checkpoint keeper, the Ctrl-C handler that saves through the keeper, the
session, and under xdist the controller's hooks. `pytest_configure` (plugin/__init__.py) reads the options
and calls `build_session`; nothing here decides what a plain function could.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from pytest_model_analyzer.analysis.regression import Reference
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.checkpoint import CheckpointStore
from pytest_model_analyzer.infra.leftovers import owned_temp_dir
from pytest_model_analyzer.infra.versions import Versions
from pytest_model_analyzer.plugin.command_line import drift_allowance
from pytest_model_analyzer.plugin.interrupts import InterruptHooks, RunStop
from pytest_model_analyzer.plugin.lifecycle import RunHooks
from pytest_model_analyzer.plugin.session import ModelAnalyzerSession
from pytest_model_analyzer.plugin.terminal_summary import TerminalHooks
from pytest_model_analyzer.plugin.xdist.workers import ControllerHooks, is_worker, planned_workers
from pytest_model_analyzer.plugin.xdist.workload import Workload
from pytest_model_analyzer.results.facts import RunFacts
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.resolver import PointResolver
from pytest_model_analyzer.results.saving import CheckpointKeeper, JournalKeeper


def build_session(config: pytest.Config, profile: ProfileConfig, store: CheckpointStore | None,
                  imported: list[Measurement], reference: Reference | None,
                  versions: Versions) -> ModelAnalyzerSession:
    """The run's session, its hooks registered with pytest."""
    slots = worker_slots(config, profile)
    stop = RunStop(owned_temp_dir("xdist") / "stop" if slots is not None else None)
    writes = not is_worker(config)
    journaling = JournalKeeper.of(store, writes, on_cannot_keep=stop.request)
    # What may stand in for measuring a point again: with a reference, only what it says (Reference.reusable).
    stored = [] if store is None else [measurement for measurement in store.loaded.values()
                                       if reference is None or reference.reusable(measurement)]
    stored_from = store.loaded_from.name if store is not None and store.loaded_from else "checkpoint"
    ledger = Ledger(stored, stored_from, imported, on_new=journaling.keep)
    resolver = PointResolver(ledger, first_trials_ahead=reference is not None, ahead_by_variant=is_worker(config))
    # Where the run's checkpoint goes when its directory cannot take it (a full disk).
    rescue_places = [profile.run.export_path, Path(tempfile.gettempdir())]
    keeper = CheckpointKeeper(store, ledger, journaling, writes=writes, rescue_places=rescue_places)
    interrupts = InterruptHooks(config, stop, save=lambda: keeper.save(interrupted=True))
    facts = RunFacts()
    session = ModelAnalyzerSession(config, profile, resolver, keeper, interrupts.handler, reference, versions,
                                   facts=facts, drift_allowed=drift_allowance(config))
    controller = None
    if slots is not None and stop.stopfile is not None:
        controller = ControllerHooks(facts, slots, lambda: _workload(profile, ledger), stop.stopfile)
        config.pluginmanager.register(controller, "model_analyzer_xdist")
    config.pluginmanager.register(interrupts, "model_analyzer_interrupts")
    config.pluginmanager.register(RunHooks(session, controller), "model_analyzer_run")
    config.pluginmanager.register(TerminalHooks(session), "model_analyzer_terminal")
    return session


def worker_slots(config: pytest.Config, profile: ProfileConfig) -> int | None:
    """Under pytest-xdist's controller: one variant per worker, and one server and GPU (or endpoint) per
    worker; how many servers (slots) there are. None without distribution (or on a worker)."""
    from pytest_model_analyzer.infra.monitor import gpu_inventory

    workers = planned_workers(config)
    if workers == 0 or config.option.collectonly:
        return None
    if config.option.dist in ("no", "load"):
        config.option.dist = "loadscope"  # a variant's items stay on one worker: loaded once, measured alike
    if profile.run.triton_launch_mode == "remote":
        endpoints = profile.run.triton_grpc_endpoints or [profile.run.triton_grpc_endpoint]
        if workers > len(endpoints):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(endpoints)} remote server(s); measurements sharing a "
                "server disturb each other: list one per worker in triton_grpc_endpoints/triton_http_endpoints")
        return len(endpoints)
    if profile.gpu_bound:
        gpus = gpu_inventory(profile.run.gpus)
        if workers > len(gpus):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(gpus)} GPU(s) selected by `gpus`; measurements sharing "
                "a GPU are wrong: use at most one worker per GPU")
        return len(gpus)
    if workers > (os.cpu_count() or 1):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"model-analyzer: -n {workers} on {os.cpu_count()} CPU cores: each worker runs a server and "
            "perf_analyzer, so the measurements will compete for the cores"), stacklevel=2)
    return workers


def _workload(profile: ProfileConfig, ledger: Ledger) -> Workload:
    from pytest_model_analyzer.config.points import profile_points
    from pytest_model_analyzer.plugin.xdist.workload import plan_workload

    return plan_workload(profile_points(profile), ledger.is_stored)
