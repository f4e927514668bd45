"""pytest entry point: options, configure-time validation, collection of the profile, session fixtures.

Heavy imports (tritonclient, pynvml) happen inside the fixtures, so a run without `--ma-config` pays nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config import ConfigError
from pytest_model_analyzer.config.loader import load_profile
from pytest_model_analyzer.config.options import OPTIONS
from pytest_model_analyzer.errors import MeasurementError
from pytest_model_analyzer.session import SESSION_KEY, ModelAnalyzerSession


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("model-analyzer", "Triton model profiling (pytest-model-analyzer)")
    group.addoption("--ma-config", dest="ma_config", metavar="PATH", default=None,
                    help="Model Analyzer-style profile YAML; its measurement points become the items")
    group.addoption("--ma-fresh", action="store_true", default=False,
                    help="ignore earlier checkpoints (they stay on disk); measure everything again")
    group.addoption("--ma-import-checkpoint", metavar="PATH", default=None,
                    help="read a Triton Model Analyzer .ckpt: its measurements are reused, gated and reported")
    group.addoption("--ma-compare", metavar="N", nargs="?", const="latest", default=None,
                    help="compare every point with checkpoint N (default: the latest before this run); "
                         "everything is measured again")
    group.addoption("--ma-compare-fail", metavar="SPEC", default=None,
                    help="fail points that regressed against --ma-compare by more than this, "
                         "e.g. perf_throughput:5%%,perf_latency_p99:10%%")
    parser.addini("ma_config", "profile YAML used when --ma-config is not given (relative to the ini file)",
                  default="")
    for option in OPTIONS.values():
        if not option.cli:
            continue
        text = option.help or option.key.replace("_", " ")
        if option.unsupported:
            text += f" [not supported yet: {option.unsupported}]"
        if option.parse.__name__ == "parse_bool":
            group.addoption(option.flag, dest=f"ma_{option.key}", action="store_const", const=True,
                            default=None, help=text)
        else:
            group.addoption(option.flag, dest=f"ma_{option.key}", metavar="VALUE", default=None, help=text)


def _config_path(config: pytest.Config) -> Path | None:
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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    path = _config_path(config)
    if path is None:
        return
    try:
        from pytest_model_analyzer.monitor import gpu_inventory

        all_gpus = gpu_inventory()
        profile = load_profile(path, cli=cli_overrides(config), cwd=Path.cwd(), gpus_available=bool(all_gpus))
    except ConfigError as exc:
        raise pytest.UsageError(f"{path}: {exc}") from None
    store, imported = _open_checkpoints(config, profile) if not config.option.collectonly else (None, [])
    baseline = _baseline(config, store)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No test paths given: collect the profile alone, no test files needed.
        config.args = [str(profile.source)]
    session = ModelAnalyzerSession(config, profile, store, imported, baseline)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "model_analyzer_session")
    _plan_workers(config, profile, session)
    for text in profile.warnings:
        config.issue_config_time_warning(pytest.PytestConfigWarning(f"model-analyzer: {text}"), stacklevel=2)


def _plan_workers(config: pytest.Config, profile: Any, session: ModelAnalyzerSession) -> None:
    """Under pytest-xdist: one variant per worker, and one server and GPU (or endpoint) per worker."""
    from pytest_model_analyzer.monitor import gpu_inventory
    from pytest_model_analyzer.xdist_support import ControllerHooks, planned_workers

    workers = planned_workers(config)
    if workers == 0 or config.option.collectonly:
        return
    if config.option.dist in ("no", "load"):
        config.option.dist = "loadscope"  # a variant's items stay on one worker: loaded once, measured alike
    slots = workers
    if profile["triton_launch_mode"] == "remote":
        endpoints = profile["triton_grpc_endpoints"] or [profile["triton_grpc_endpoint"]]
        if workers > len(endpoints):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(endpoints)} remote server(s); measurements sharing a "
                "server disturb each other: list one per worker in triton_grpc_endpoints/triton_http_endpoints")
        slots = len(endpoints)
    elif profile.gpu_bound:
        gpus = gpu_inventory(profile["gpus"])
        if workers > len(gpus):
            raise pytest.UsageError(
                f"-n {workers}: {workers} workers but {len(gpus)} GPU(s) selected by `gpus`; measurements sharing "
                "a GPU are wrong: use at most one worker per GPU")
        slots = len(gpus)
    elif workers > (os.cpu_count() or 1):
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            f"model-analyzer: -n {workers} on {os.cpu_count()} CPU cores: each worker runs a server and "
            "perf_analyzer, so the measurements will compete for the cores"), stacklevel=2)
    session.controller = ControllerHooks(session, slots)
    config.pluginmanager.register(session.controller, "model_analyzer_xdist")


def _open_checkpoints(config: pytest.Config, profile: Any) -> tuple[Any, list[Any]]:
    """The latest checkpoint, read up front: a damaged one is a usage error before anything starts."""
    from pytest_model_analyzer.checkpoint import CheckpointError, CheckpointStore
    from pytest_model_analyzer.ma_import import import_checkpoint

    try:
        store = CheckpointStore(Path(profile["checkpoint_directory"]), fresh=config.getoption("ma_fresh"))
        source = config.getoption("ma_import_checkpoint")
        imported = import_checkpoint(Path(source)) if source else []
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    return store, imported


def _baseline(config: pytest.Config, store: Any) -> Any:
    """`--ma-compare[=N]` and `--ma-compare-fail`: the checkpoint to compare with, and the checks."""
    from pytest_model_analyzer.checkpoint import SUFFIX, CheckpointError, read
    from pytest_model_analyzer.regression import parse_checks
    from pytest_model_analyzer.session import Baseline

    which, spec = config.getoption("ma_compare"), config.getoption("ma_compare_fail")
    if which is None:
        if spec:
            raise pytest.UsageError("--ma-compare-fail needs --ma-compare (the checkpoint to compare with)")
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
    path = store.directory / f"{index}{SUFFIX}"
    if not path.exists():
        raise pytest.UsageError(f"--ma-compare: {path} does not exist")
    try:
        measurements = {m.key(): m for m in read(path)}
    except CheckpointError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Baseline(path.name, measurements, checks)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    session = parent.config.stash.get(SESSION_KEY, None)
    if session is None or session.profile.source is None:
        return None
    if file_path.resolve() != session.profile.source:
        return None
    from pytest_model_analyzer.collect import ProfileFile

    node = ProfileFile.from_parent(parent, path=file_path)
    node.profile = session.profile
    node.search = session.search
    return node


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ma_session(request: pytest.FixtureRequest) -> ModelAnalyzerSession:
    """The run state: profile, measurements, notes."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip("no profile: pass --ma-config PATH")
    return session


@pytest.fixture(scope="session")
def ma_runtime() -> Any:
    """The bundled stack's library and backend links (created when missing)."""
    from pytest_model_analyzer import runtime

    return runtime.prepare()


@pytest.fixture(scope="session")
def ma_server(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession, ma_runtime: Any,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The Triton server, local (started and stopped here) or remote, with its model control."""
    from pytest_model_analyzer.backend import open_server
    from pytest_model_analyzer.xdist_support import worker_slot

    slot = worker_slot(request.config)
    server, control = _or_measurement_error(
        request, lambda: open_server(ma_session.profile, ma_runtime, tmp_path_factory.mktemp("ma-server"), slot))
    try:
        yield server, control
    finally:
        try:
            control.close()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def ma_monitor(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession, ma_server: Any) -> Any:
    """GPU metrics through NVML (this worker's GPU under xdist), or CPU metrics from the server."""
    from pytest_model_analyzer.backend import open_monitor
    from pytest_model_analyzer.xdist_support import worker_slot

    monitor = open_monitor(ma_session.profile, ma_server[0], worker_slot(request.config))
    ma_session.gpu_count = len(monitor.gpus)
    if monitor.unavailable:
        ma_session.gpu_note = f"GPU metrics unavailable ({monitor.unavailable}): CPU metrics recorded instead"
        ma_session.note(ma_session.gpu_note)
    else:
        ma_session.gpu_note = "GPUs: " + ", ".join(f"{gpu.index}: {gpu.name} ({gpu.uuid})" for gpu in monitor.gpus)
        # Model Analyzer's server-only metrics: the GPUs with the server idle, before any measurement.
        ma_session.server_only = monitor.idle_metrics(float(ma_session.profile["duration_seconds"]))
    return monitor


@pytest.fixture(scope="session")
def ma_backend(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession, ma_runtime: Any, ma_server: Any,
               ma_monitor: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Everything one item needs to measure its point."""
    from pytest_model_analyzer.backend import make_backend

    return _or_measurement_error(request, lambda: make_backend(
        ma_session.profile, ma_runtime, ma_server, ma_monitor, tmp_path_factory.mktemp("ma-perf")))


@pytest.fixture
def ma_measurement(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession) -> Any:
    """The item's measurement: from the latest checkpoint when it holds this point, else taken now by a real
    perf_analyzer run (setup phase: a failure to measure is an ERROR). The server starts on first need.
    A search may skip the point (early exit, not visited), with the reason."""
    from pytest_model_analyzer.model_control import VariantSkipped

    item = request.node
    point = item.ma_point
    search = ma_session.search
    if point.model.search == "quick" and point.model.name not in search.quick:
        backend = request.getfixturevalue("ma_backend")
        search.run_quick(point.model.name, lambda p: ma_session.measure_ahead(p, backend),
                         ma_session.profile["num_configs_per_model"], stop=lambda: ma_session.interrupt.count > 0)
    reason = search.skip_reason(point)
    if reason is not None:
        pytest.skip(reason)
    if point.key() in ma_session.failures:
        raise MeasurementError(ma_session.failures[point.key()])
    stored = ma_session.stored_measurement(point)
    if stored is not None:
        origin = stored.source if stored.source != "measured" else ma_session.loaded_name()
        ma_session.record(item, stored, origin=origin)
        return stored
    earlier = ma_session.taken_this_session(point)
    if earlier is not None and earlier.variant != point.variant.name:
        ma_session.record(item, earlier, origin=f"same config as {earlier.variant}")
        return earlier
    planned = ma_session.planned.pop(point.key(), None)
    if planned is not None:
        ma_session.record(item, planned)
        return planned
    ma_backend = request.getfixturevalue("ma_backend")
    try:
        measurement = ma_backend.measure(point)
    except VariantSkipped as exc:
        pytest.skip(str(exc))
    except MeasurementError as exc:
        ma_session.fail(point, str(exc))
        raise
    finally:
        ma_session.server_restarts = len(ma_backend.restarts)
    ma_session.record(item, measurement)
    return measurement


def _or_measurement_error(request: pytest.FixtureRequest, build: Any) -> Any:
    """Start-up problems (binary missing, server not ready) become one clear error, and the session stops:
    nothing could be measured, and the same error on every item would only bury the message."""
    from pytest_model_analyzer.runtime import RuntimeMissing
    from pytest_model_analyzer.server import ServerError

    try:
        return build()
    except (RuntimeMissing, ServerError) as exc:
        request.session.shouldfail = "model-analyzer could not start measuring (see the error above)"
        raise MeasurementError(str(exc)) from None
