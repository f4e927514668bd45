"""Measures one point against a server: the work of one item, with no pytest in it.

The pytest layer hands `Measurer.measure` to the ledger (results/ledger.py) as the way to take a new
measurement; a test can hand it any other callable with the same contract.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import combined_metrics
from pytest_model_analyzer.infra import perf_analyzer
from pytest_model_analyzer.infra.model_control import ModelControl, RepositoryControl, VariantLoadError
from pytest_model_analyzer.infra.monitor import ResourceMonitor
from pytest_model_analyzer.infra.runtime import Runtime
from pytest_model_analyzer.infra.server import InProcessServer, LocalServer, RemoteServer, ServerError


def _ignore(log_tail: str) -> None:
    return None


@dataclass
class Measurer:
    """The session's server, its model control and the tools that measure against it."""

    server: LocalServer | RemoteServer | InProcessServer
    control: ModelControl | RepositoryControl
    runtime: Runtime
    perf_analyzer: Path
    monitor: ResourceMonitor
    workdir: Path
    protocol: str = "grpc"
    timeout: float = 600.0
    perf_output: Path | None = None
    max_adjusts: int = 10
    on_restart: Callable[[str], None] = _ignore  # told the dead server's last log lines

    def ensure_server(self, point: Point) -> None:
        """A local server that died is started again (and counted as restarted); a remote one that stopped
        answering is an error. A model with its own server flags gets its own start."""
        server = self.server
        if isinstance(server, LocalServer):
            wanted = (dict(point.model.triton_server_flags), dict(point.model.triton_server_environment))
            if (server.flags, server.environment) != wanted:
                server.flags, server.environment = wanted
                self.control.reset(server.restart().grpc)
                return
        if not self.server.trouble():
            return
        tail = server.log_tail()
        endpoints = server.restart()  # a remote server is never restarted: this raises ServerError
        self.on_restart(tail)
        self.control.reset(endpoints.grpc)

    def measure(self, point: Point) -> Measurement:
        members = point.model.members
        try:
            self.ensure_server(point)
            effective = self.control.ensure(point.model.name, point.variant, load_self=not members)
        except VariantLoadError as exc:
            trouble = self.server.trouble()
            if trouble:
                # Not the variant's fault: its next items are tried again on the restarted server.
                self.control.forget_failure(point.model.name, point.variant)
                raise MeasurementError(f"the Triton server {trouble} while loading {point.variant.name}:\n"
                                       f"{self.server.log_tail()}\n{exc}") from None
            raise MeasurementError(str(exc)) from None
        except ServerError as exc:
            raise MeasurementError(str(exc)) from None
        # Models profiled together: one perf_analyzer per model, started together (Model Analyzer's concurrent
        # profiling); they share the combination's perf_analyzer flags (config/concurrent.py).
        measured = point.variant.composing if members else [(point.model.name, point.variant)]
        runs = {name: self._call(point, name, variant.name) for name, variant in measured}
        started = time.time()
        try:
            with self.monitor.record() as recording:
                results = self._run_together(runs)
        except perf_analyzer.PerfAnalyzerError as exc:
            trouble = self.server.trouble()
            if trouble:
                raise MeasurementError(f"the Triton server {trouble} during the measurement:\n"
                                       f"{self.server.log_tail()}\n{exc}") from None
            raise MeasurementError(str(exc)) from None
        resources, per_gpu = recording.result()
        figures = {name: metrics for name, (metrics, _, _) in results.items()}
        requests = min(metrics.pop(perf_analyzer.REQUESTS, 0.0) for metrics in figures.values())
        metrics = combined_metrics(figures) if members else figures[point.model.name]
        metrics.update(resources)
        return Measurement(
            model=point.model.name, variant=point.variant.name, batch_size=point.batch_size,
            load_kind=point.load_kind, load=point.load, metrics=metrics, config_digest=point.config_digest,
            config=point.config, parameters=point.variant.parameters, effective_config=effective,
            perf_analyzer_flags=point.perf_analyzer_flags, gpu_metrics=per_gpu, timestamp=started,
            duration_s=max(seconds for _, seconds, _ in results.values()),
            window_adjusts=sum(adjusts for _, _, adjusts in results.values()), requests=requests,
            composing=[{**composing, "effective_config": self.control.served(composing["model"])}
                       for composing in point.composing],
        )

    def _call(self, point: Point, model: str, variant: str) -> tuple[perf_analyzer.PerfAnalyzerCall, Mapping[str, str]]:
        target = self.server.target(model, variant, self.protocol)
        call = perf_analyzer.PerfAnalyzerCall(
            executable=self.perf_analyzer, model=target.model, target=target.arguments, batch_size=point.batch_size,
            load_kind=point.load_kind, load=point.load, flags=point.perf_analyzer_flags,
        )
        return call, self.runtime.child_env(dict(target.environment))

    def _run_together(self, runs: Mapping[str, tuple[perf_analyzer.PerfAnalyzerCall, Mapping[str, str]]]) -> dict[
            str, tuple[dict[str, float], float, int]]:
        """Each run's (metrics, seconds, window adjusts); several at once in threads, all waited for, the first
        error (by model order) raised once all ended, so that no perf_analyzer outlives the measurement."""
        def one(call: perf_analyzer.PerfAnalyzerCall, env: Mapping[str, str]) -> tuple[dict[str, float], float, int]:
            return perf_analyzer.run(call, self.workdir, env, self.timeout, self.perf_output, self.max_adjusts)

        if len(runs) == 1:
            (name, (call, env)), = runs.items()
            return {name: one(call, env)}
        with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="ma-perf") as pool:
            futures = {name: pool.submit(one, call, env) for name, (call, env) in runs.items()}
            wait(list(futures.values()))
        return {name: future.result() for name, future in futures.items()}
