"""Measures one point against a server: the work of one item, with no pytest in it.

The pytest layer hands `Measurer.measure` to the ledger (results/ledger.py) as the way to take a new
measurement; a test can hand it any other callable with the same contract.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pytest_model_analyzer.analysis.slo import slo_metrics
from pytest_model_analyzer.analysis.tokens import token_metrics
from pytest_model_analyzer.config.llm import LLMSpec
from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.config.profile import ModelSpec
from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.domain.latency import LatencySketch
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import combined_metrics
from pytest_model_analyzer.infra import perf_analyzer
from pytest_model_analyzer.infra.model_control import ModelControl, RepositoryControl, Side, VariantLoadError
from pytest_model_analyzer.infra.monitor import ResourceMonitor, Sample
from pytest_model_analyzer.infra.perf_analyzer import PerfAnalyzerCall, PerfAnalyzerRun
from pytest_model_analyzer.infra.runtime import Runtime
from pytest_model_analyzer.infra.server import InProcessServer, LocalServer, RemoteServer, ServerError
from pytest_model_analyzer.infra.versions import Served


def _ignore(log_tail: str) -> None:
    return None


Key = TypeVar("Key", bound=Hashable)


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
    cpus: frozenset[int] | None = None  # the CPUs perf_analyzer may use (the Versions' placement); None: any

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
        if endpoints is not None:  # an in-process server (c_api) has no control channel to reconnect
            self.control.reset(endpoints.grpc)

    def load_sides(self, point: Point, served_as: Sequence[Mapping[str, str]]) -> None:
        """The point's models loaded at once for each of the names in `served_as` (both sides of an A/B pair),
        ahead of their measurements. Best effort: a side that did not load is loaded again, and its error
        reported, by its own measurement."""
        sides = [Side(point.model.name, point.variant, not point.model.members, names) for names in served_as]
        try:
            self.ensure_server(point)
            self.control.load_sides(sides, deadline=time.monotonic() + self.timeout)
        except (VariantLoadError, ServerError):
            return

    def measure(self, point: Point, served_as: Mapping[str, str] | None = None,
                beside: Collection[str] = ()) -> Measurement:
        """`served_as`: the names the point's models are served under (an A/B run's baseline side); `beside`:
        models that stay loaded (the other side of the pair)."""
        return self.measure_at_once(point, [Served(served_as or {}, tuple(beside))])[0]

    def measure_at_once(self, point: Point, sides: Sequence[Served],
                        flags: Mapping[str, Any] | None = None) -> list[Measurement]:
        """The point measured on each of `sides` (one, or both sides of a duet pair) at the same time: each
        side's models loaded, then every side's perf_analyzer started together, so that whatever disturbs the
        machine meanwhile disturbs them alike. `flags` override the point's perf_analyzer flags (a duet's fixed
        windows). Resource figures (CPU, GPU) are the server's: with several sides, each side carries them all."""
        members = point.model.members
        # The whole measurement, load and perf_analyzer's tries included, ends within perf_analyzer_timeout (a
        # server start has its own ready timeout): each step gets what the steps before it left.
        deadline = time.monotonic() + self.timeout
        effective = [self._load(point, side, deadline) for side in sides]
        # Models profiled together: one perf_analyzer per model, started together (Model Analyzer's concurrent
        # profiling); they share the combination's perf_analyzer flags (config/together.py).
        measured = point.variant.composing if members else [(point.model.name, point.variant)]
        # Each measured model's own spec: its slo and whether perf_analyzer exports its requests.
        specs = {member.name: member for member in point.model.members} or {point.model.name: point.model}
        runs = {(index, name): self._call(point, specs[name], side.names.get(name, name), variant.name, flags)
                for index, side in enumerate(sides) for name, variant in measured}
        started = time.time()
        try:
            with self.monitor.record() as recording:
                results = self._run_together(runs, deadline)
        except perf_analyzer.PerfAnalyzerError as exc:
            trouble = self.server.trouble()
            if trouble:
                raise MeasurementError(f"the Triton server {trouble} during the measurement:\n"
                                       f"{self.server.log_tail()}\n{exc}") from None
            raise MeasurementError(str(exc)) from None
        resources, per_gpu = recording.result()
        return [self._measurement(point, side, {name: results[index, name] for name, _ in measured}, specs,
                                  effective[index], resources, per_gpu, started)
                for index, side in enumerate(sides)]

    def _load(self, point: Point, side: Served, deadline: float) -> dict[str, Any]:
        """The side's models loaded (its variant's effective config returned); a load's failure as the
        measurement's error."""
        names = side.names
        try:
            self.ensure_server(point)
            return self.control.ensure(point.model.name, point.variant, load_self=not point.model.members,
                                       served_as=names, beside=side.beside, deadline=deadline)
        except VariantLoadError as exc:
            trouble = self.server.trouble()
            if trouble:
                # Not the variant's fault: its next items are tried again on the restarted server.
                self.control.forget_failure(names.get(point.model.name, point.model.name), point.variant)
                raise MeasurementError(f"the Triton server {trouble} while loading {point.variant.name}:\n"
                                       f"{self.server.log_tail()}\n{exc}") from None
            raise MeasurementError(str(exc)) from None
        except ServerError as exc:
            raise MeasurementError(str(exc)) from None

    def _measurement(self, point: Point, side: Served, results: Mapping[str, PerfAnalyzerRun],
                     specs: Mapping[str, ModelSpec], effective: dict[str, Any], resources: Sample,
                     per_gpu: dict[str, Sample], started: float) -> Measurement:
        """One side's measurement from its perf_analyzer runs (one per model profiled together)."""
        names = side.names
        figures = {name: run.metrics for name, run in results.items()}
        requests = min(metrics.pop(perf_analyzer.REQUESTS, 0.0) for metrics in figures.values())
        for name, run in results.items():
            figures[name].update(_token_figures(run, specs[name]))
            figures[name].update(_slo_figures(run, specs[name].slo))
        metrics = combined_metrics(figures) if point.model.members else figures[point.model.name]
        metrics.update(resources)
        sketches = [LatencySketch.of(run.requests.request_latency) for run in results.values() if run.requests]
        latency = functools.reduce(LatencySketch.merged, sketches).to_dict() if sketches else {}
        return Measurement(
            model=point.model.name, variant=point.variant.name, batch_size=point.batch_size,
            load_kind=point.load_kind, load=point.load, metrics=metrics, config_digest=point.config_digest,
            config=point.config, parameters=point.variant.parameters, effective_config=effective,
            perf_analyzer_flags=dict(point.perf_analyzer_flags), gpu_metrics=per_gpu, timestamp=started,
            duration_s=max(run.seconds for run in results.values()),
            window_adjusts=sum(run.adjusts for run in results.values()), requests=requests, latency=latency,
            composing=[{**composing, "effective_config": self.control.served(names.get(composing["model"],
                                                                                        composing["model"]))}
                       for composing in point.composing],
        )

    def _call(self, point: Point, spec: ModelSpec, model: str, variant: str,
              flags: Mapping[str, Any] | None = None) -> tuple[PerfAnalyzerCall, Mapping[str, str]]:
        """perf_analyzer's call for `spec`'s model, served as `model` (an A/B run's baseline has a name of its
        own); `flags` override the point's."""
        target = self.server.target(model, variant, self.protocol)
        flags, tokens = {**point.perf_analyzer_flags, **(flags or {})}, None
        if spec.llm is not None:
            flags, tokens = {**flags, "input-data": str(self._requests_file(spec.llm))}, spec.llm.reading()
        call = PerfAnalyzerCall(
            executable=self.perf_analyzer, model=target.model, target=target.arguments, batch_size=point.batch_size,
            load_kind=point.load_kind, load=point.load, flags=flags, export=spec.export_requests, tokens=tokens,
            cpus=self.cpus,
        )
        return call, self.runtime.child_env(dict(target.environment))

    def _requests_file(self, llm: LLMSpec) -> Path:
        """An LLM's requests as perf_analyzer's input data, written once per content (named by its digest, so
        every point and both sides of an A/B pair read the same file)."""
        path = self.workdir / f"llm-requests-{llm.digest}.json"
        if not path.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_native_id()}.tmp")
            partial.write_text(json.dumps(llm.input_data()), encoding="utf-8")
            os.replace(partial, path)
        return path

    def _run_together(self, runs: Mapping[Key, tuple[PerfAnalyzerCall, Mapping[str, str]]],
                      deadline: float) -> dict[Key, PerfAnalyzerRun]:
        """Each model's perf_analyzer run; several at once in threads, all waited for, the first
        error (by model order) raised once all ended, so that no perf_analyzer outlives the measurement. They
        have what the load left of the measurement's deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise perf_analyzer.PerfAnalyzerError(f"the point's perf_analyzer_timeout ({self.timeout:g} s) ran out "
                                                  "while its model loaded; perf_analyzer did not start")

        def one(call: PerfAnalyzerCall, env: Mapping[str, str]) -> PerfAnalyzerRun:
            return perf_analyzer.run(call, self.workdir, env, left, self.perf_output, self.max_adjusts,
                                     limit=self.timeout)

        if len(runs) == 1:
            (name, (call, env)), = runs.items()
            return {name: one(call, env)}
        with ThreadPoolExecutor(max_workers=len(runs), thread_name_prefix="ma-perf") as pool:
            futures = {name: pool.submit(one, call, env) for name, (call, env) in runs.items()}
            wait(list(futures.values()))
        return {name: future.result() for name, future in futures.items()}


def _token_figures(run: PerfAnalyzerRun, spec: ModelSpec) -> dict[str, float]:
    """An LLM's token metrics (TTFT, ITL, output token throughput) from every request perf_analyzer exported."""
    if spec.llm is None:
        return {}
    if run.requests is None or run.requests.tokens is None:
        raise MeasurementError("model_type LLM reads every request's responses from perf_analyzer's profile export "
                               "(--profile-export-file), and this perf_analyzer wrote none: the runtime extra's "
                               "perf_analyzer does")
    return token_metrics(run.requests)


def _slo_figures(run: PerfAnalyzerRun, slo: Mapping[str, float]) -> dict[str, float]:
    """Goodput and attainment against the model's SLO, from every request perf_analyzer exported."""
    if not slo:
        return {}
    if run.requests is None:
        raise MeasurementError("the profile sets an slo, but this perf_analyzer wrote no profile export "
                               "(--profile-export-file) to count its requests by: goodput needs a perf_analyzer "
                               "that takes that option (the runtime extra's does)")
    return slo_metrics(run.requests, slo)
