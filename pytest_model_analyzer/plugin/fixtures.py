"""The plugin's fixtures. Session scope: the run state, the bundled runtime, the server, the monitor and
the measurer; function scope: each item's measurement. Heavy imports (tritonclient, pynvml) happen inside
them, so a run without `--ma-config` pays nothing.

`ma_measurer` is the seam for tests and custom drivers: override it (in a conftest.py) with any object whose
`measure(point)` returns a Measurement, raises MeasurementError, or raises PointSkipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import pytest

from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.outcome import NoteKind
from pytest_model_analyzer.plugin.session import (
    ORIGIN,
    SESSION_KEY,
    ModelAnalyzerSession,
    set_measurement,
    set_property,
)
from pytest_model_analyzer.plugin.xdist.workers import is_worker, worker_slot

if TYPE_CHECKING:

    from pytest_model_analyzer.infra.monitor import ResourceMonitor
    from pytest_model_analyzer.infra.runtime import Runtime
    from pytest_model_analyzer.infra.stack import Control, Server
    from pytest_model_analyzer.infra.versions import PointMeasurer

T = TypeVar("T")


@pytest.fixture(scope="session")
def ma_session(request: pytest.FixtureRequest) -> ModelAnalyzerSession:
    """The run state: profile, ledger, checkpoint, facts."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip("no profile: pass --ma-config PATH")
    return session


@pytest.fixture(scope="session")
def ma_runtime() -> Runtime:
    """The bundled stack's library and backend links (created when missing)."""
    from pytest_model_analyzer.infra import runtime

    return runtime.prepare()


class EarlyServer:
    """The server, started in a thread as soon as the items are known: under xdist a worker waits a second or
    more for its first items after collecting, and the server starts meanwhile instead of during the first
    item. `ma_server` takes it (with any start-up error); if no item did, the end of the session stops it."""

    def __init__(self, start: Callable[[], tuple[Server, Control]]) -> None:
        self._done = threading.Event()
        self._value: tuple[Server, Control] | None = None
        self._error: BaseException | None = None
        self.taken = False
        threading.Thread(target=self._run, args=(start,), name="ma-early-server", daemon=True).start()

    def _run(self, start: Callable[[], tuple[Server, Control]]) -> None:
        try:
            self._value = start()
        except BaseException as exc:  # handed to the fixture, which reports it as the first item's error
            self._error = exc
        finally:
            self._done.set()

    def take(self) -> tuple[Server, Control]:
        self._done.wait()
        self.taken = True
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def discard(self) -> None:
        if self.taken:
            return
        self._done.wait()
        if self._value is not None:
            server, control = self._value
            try:
                control.close()
            finally:
                server.stop()


EARLY_SERVER = pytest.StashKey[EarlyServer]()


def start_server_early(session: pytest.Session) -> None:
    """Begin the server's start when some selected item will measure: not for `--collect-only`, a resumed run
    whose points are all stored, a user's own `ma_measurer` that needs no server, or an xdist controller."""
    config = session.config
    ma_session = config.stash.get(SESSION_KEY, None)
    if ma_session is None or config.option.collectonly:
        return
    if not any("ma_server" in getattr(item, "fixturenames", ()) and hasattr(item, "ma_point")
               and not ma_session.ledger.is_stored(item.ma_point.setup) for item in session.items):
        return
    from pytest_model_analyzer.infra import runtime
    from pytest_model_analyzer.infra.stack import open_server

    workdir = config._tmp_path_factory.mktemp("ma-server")  # type: ignore[attr-defined]  # tmp_path_factory's own
    config.stash[EARLY_SERVER] = EarlyServer(
        lambda: open_server(ma_session.profile, runtime.prepare(), workdir, worker_slot(config),
                            ma_session.versions))


@pytest.fixture(scope="session")
def ma_server(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession, ma_runtime: Runtime,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Control]]:
    """The Triton server, local (started and stopped here) or remote, with its model control."""
    from pytest_model_analyzer.infra.stack import open_server

    slot = worker_slot(request.config)
    early = request.config.stash.get(EARLY_SERVER, None)
    server, control = _or_measurement_error(request, early.take if early is not None else (
        lambda: open_server(ma_session.profile, ma_runtime, tmp_path_factory.mktemp("ma-server"), slot,
                            ma_session.versions)))
    try:
        yield server, control
    finally:
        try:
            control.close()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def ma_monitor(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession,
               ma_server: tuple[Server, Control]) -> ResourceMonitor:
    """GPU metrics through NVML (this worker's GPU under xdist), or CPU metrics from the server."""
    from pytest_model_analyzer.infra.stack import open_monitor

    monitor = open_monitor(ma_session.profile, ma_server[0], worker_slot(request.config))
    facts = ma_session.facts
    facts.gpu_count = len(monitor.gpus)
    if monitor.unavailable:
        facts.gpu_note = f"GPU metrics unavailable ({monitor.unavailable}): CPU metrics recorded instead"
        facts.note(facts.gpu_note, NoteKind.TESTBED)
    else:
        facts.gpu_note = f"GPU metrics from {monitor.gpu_source}: " + ", ".join(
            f"{gpu.index}: {gpu.name} ({gpu.uuid})" for gpu in monitor.gpus)
        facts.note(facts.gpu_note, NoteKind.TESTBED)  # which GPUs the figures describe (under xdist, each worker's own)
        # Model Analyzer's server-only metrics: the GPUs with the server idle, before any measurement.
        facts.server_only = monitor.idle_metrics(float(ma_session.profile.run.duration_seconds))
    return monitor


@pytest.fixture(scope="session")
def ma_measurer(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession, ma_runtime: Runtime,
                ma_server: tuple[Server, Control], ma_monitor: ResourceMonitor,
                tmp_path_factory: pytest.TempPathFactory) -> PointMeasurer:
    """What takes a new measurement of a point: perf_analyzer against the session's server."""
    from pytest_model_analyzer.infra.stack import make_measurer

    def restarted(log_tail: str) -> None:
        ma_session.facts.server_restarts += 1

    server, control = ma_server
    placement = ma_session.versions.placement(worker_slot(request.config))
    measurer = _or_measurement_error(request, lambda: make_measurer(
        ma_session.profile, ma_runtime, server, control, ma_monitor, tmp_path_factory.mktemp("ma-perf"),
        on_restart=restarted, placement=placement))
    return ma_session.versions.measurer(measurer)  # an A/B run's: each measurement a pair


@pytest.fixture
def ma_measurement(request: pytest.FixtureRequest, ma_session: ModelAnalyzerSession) -> Measurement:
    """The item's measurement (setup phase: a failure to measure is an ERROR), as the ledger resolves it:
    reused when the run already has it, else taken by `ma_measurer`, which (and so the server) starts on
    first need. A search may skip the point (early exit, not visited), with the reason."""
    item = request.node
    step = getattr(item, "ma_binary", None)
    if step is not None:
        if is_worker(request.config):
            pytest.skip("binary search: it decides from all of a model's measurements, which an xdist worker "
                        "does not have (run without -n to search the constraint boundary)")
        decided = ma_session.resolver.binary_step(step)
        if isinstance(decided, str):
            pytest.skip(decided)
        item.ma_point = decided
    resolution = ma_session.resolver.resolve(
        item.ma_point, lambda point: request.getfixturevalue("ma_measurer").measure(point),
        stop=lambda: ma_session.stopping)
    if resolution.measurement is None:
        pytest.skip(resolution.skipped)
    if resolution.origin.words:
        set_property(item, ORIGIN, resolution.origin.words)
    set_measurement(item, resolution.measurement)
    return resolution.measurement


def _or_measurement_error(request: pytest.FixtureRequest, build: Callable[[], T]) -> T:
    """Start-up problems (binary missing, server not ready) become one clear error, and the session stops:
    nothing could be measured, and the same error on every item would only bury the message."""
    from pytest_model_analyzer.infra.perf_analyzer import UnsupportedFlags
    from pytest_model_analyzer.infra.runtime import RuntimeMissing
    from pytest_model_analyzer.infra.server import ServerError

    try:
        return build()
    except (RuntimeMissing, ServerError, UnsupportedFlags) as exc:
        request.session.shouldfail = "model-analyzer could not start measuring (see the error above)"
        raise MeasurementError(str(exc)) from None
