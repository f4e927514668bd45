"""Builds the session's measuring stack from a profile: server, model control, monitor and measurer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.infra import perf_analyzer
from pytest_model_analyzer.infra import runtime as rt
from pytest_model_analyzer.infra.installation import ServerInstall, check_backends, find_server
from pytest_model_analyzer.infra.measurer import Measurer
from pytest_model_analyzer.infra.model_control import ModelControl, RepositoryControl
from pytest_model_analyzer.infra.monitor import (
    GpuInfo,
    ResourceMonitor,
    Sample,
    cpu_sampler,
    gpu_inventory,
    gpu_sampler,
    open_gpus,
    open_server_gpus,
)
from pytest_model_analyzer.infra.server import Endpoints, InProcessServer, LocalServer, RemoteServer
from pytest_model_analyzer.infra.versions import CANDIDATE_ONLY, UNPLACED, CpuPlacement, Versions

Server = LocalServer | RemoteServer | InProcessServer
Control = ModelControl | RepositoryControl


def _url(endpoint: str) -> str:
    return endpoint.split("://", 1)[-1]


def _worker_gpu(profile: ProfileConfig, slot: int | None) -> GpuInfo | None:
    """Under xdist, the one GPU of this worker's slot (None without xdist or without GPUs)."""
    if slot is None or not profile.gpu_bound:
        return None
    gpus = gpu_inventory(profile.run.gpus)
    return gpus[slot] if slot < len(gpus) else None


def local_install(profile: ProfileConfig, runtime: rt.Runtime) -> ServerInstall:
    """The server a local run starts, checked against every model it loads (their backends): before any start."""
    install = find_server(profile.run.triton_server_path, runtime)
    check_backends(loaded_configs(profile), install)
    return install


def loaded_configs(profile: ProfileConfig) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(key, model, config.pbtxt) of every model a run loads: each profiled one, its composing models and the
    members of models profiled together."""
    found: dict[str, tuple[str, str, Mapping[str, Any]]] = {}
    for model in profile.models:
        for spec in (model, *model.members):
            key = f"profile_models.{spec.name}"
            found.setdefault(spec.name, (key, spec.name, spec.base_config))
            for composing in spec.composing:
                found.setdefault(composing.name, (key, composing.name, composing.base_config))
    return [entry for entry in found.values() if entry[2]]


def open_server(profile: ProfileConfig, runtime: rt.Runtime, workdir: Path,
                slot: int | None = None, versions: Versions = CANDIDATE_ONLY) -> tuple[Server, Control]:
    """`versions`: what is served beside the profile's model repository (an A/B run's staged baseline)."""
    settings = profile.run
    gpu = _worker_gpu(profile, slot)
    pinned = {"CUDA_VISIBLE_DEVICES": gpu.uuid} if gpu else None  # this worker's GPU only
    if settings.triton_launch_mode == "c_api":
        repository = workdir / "c_api_repository"
        in_process = InProcessServer(rt.resolve_server_directory(settings.triton_install_path, runtime),
                                     repository, pinned)
        in_process.start()
        return in_process, RepositoryControl(profile.model_repository, repository,
                                             {model.name: model.base_config for model in profile.models})
    if settings.triton_launch_mode == "remote":
        http, grpc, metrics = profile.remote_endpoints(slot)
        server: LocalServer | RemoteServer = RemoteServer(Endpoints(http=_url(http), grpc=_url(grpc),
                                                                    metrics_url=metrics))
    else:
        log = Path(settings.triton_output_path) if settings.triton_output_path else workdir / "tritonserver.log"
        first = profile.models[0]
        install = local_install(profile, runtime)
        server = LocalServer(
            executable=install.executable,
            model_repository=profile.model_repository, runtime=replace(runtime, backend_dir=install.backend_dir),
            log_path=log,
            flags=first.triton_server_flags, environment=first.triton_server_environment,
            metrics_interval_ms=max(1, int(settings.monitoring_interval * 1000)),
            pinned_environment=pinned, extra_repositories=versions.repositories,
            ready_timeout=float(settings.client_max_retries), cpus=versions.placement(slot).server,
        )
    endpoints = server.start()
    try:
        control = ModelControl(endpoints.grpc, reload_disabled=settings.reload_model_disable,
                               timeout=float(settings.perf_analyzer_timeout),
                               wait_for_unload=versions.one_side_at_a_time)
    except BaseException:
        server.stop()
        raise
    return server, control


def open_monitor(profile: ProfileConfig, server: Server, slot: int | None = None) -> ResourceMonitor:
    """GPU figures from NVML for a server on this machine, from the server's own `nv_gpu_*` metrics for a remote
    one (whose GPUs this machine cannot see); CPU figures from the server's metrics endpoint."""
    settings = profile.run
    wants_gpu = settings.always_report_gpu_metrics or not all(m.cpu_only for m in profile.models)
    endpoints = server.endpoints
    metrics_url = endpoints.metrics_url if endpoints else ""
    sampler: Callable[[], dict[str, Sample]] | None
    if isinstance(server, RemoteServer):
        sampler, gpus, why = open_server_gpus(metrics_url, settings.gpus)
        source = f"the server's metrics at {metrics_url}"
    else:
        gpu = _worker_gpu(profile, slot)
        nvml, gpus, why = open_gpus([gpu.uuid] if gpu else settings.gpus)
        sampler, source = (gpu_sampler(nvml, gpus) if gpus else None), "NVML"
    if gpus and not wants_gpu:
        sampler, gpus, why = None, [], "every model is cpu_only (set always_report_gpu_metrics to record them)"
    pid_of = (lambda: server.pid) if settings.collect_cpu_metrics else None
    return ResourceMonitor(
        interval=settings.monitoring_interval,
        gpu=sampler,
        cpu=cpu_sampler(metrics_url or None, pid_of),
        gpus=gpus,
        unavailable=why,
        gpu_source=source,
    )


def check_perf_analyzer_flags(profile: ProfileConfig, executable: Path, runtime: rt.Runtime) -> None:
    """Before the first measurement: every perf_analyzer flag the profile sets is one this binary takes (its
    own `--help` says which), so that a flag it rejects is one clear error, not one failure per point."""
    accepted = perf_analyzer.accepted_options(executable, runtime.library_path())
    for model in profile.models:
        refused = perf_analyzer.unsupported_flags(model.perf_analyzer_flags, accepted)
        if refused:
            raise perf_analyzer.UnsupportedFlags(
                f"perf_analyzer_flags.{refused[0]}: the perf_analyzer at {executable} does not take this option "
                "(it is not in its --help); remove it or use a perf_analyzer that has it")


def make_measurer(profile: ProfileConfig, runtime: rt.Runtime, server: Server, control: Control,
                  monitor: ResourceMonitor, workdir: Path, on_restart: Callable[[str], None],
                  placement: CpuPlacement = UNPLACED) -> Measurer:
    """`placement`: the run's Versions' (its `client` CPUs are perf_analyzer's)."""
    settings = profile.run
    executable = rt.resolve_perf_analyzer(settings.perf_analyzer_path)
    check_perf_analyzer_flags(profile, executable, runtime)
    perf_output = None
    if settings.perf_output:
        perf_output = Path(settings.perf_output_path or workdir / "perf_analyzer.log")
    return Measurer(
        server=server, control=control, runtime=runtime,
        perf_analyzer=executable,
        monitor=monitor, workdir=workdir, protocol=settings.client_protocol,
        timeout=float(settings.perf_analyzer_timeout), perf_output=perf_output,
        max_adjusts=settings.perf_analyzer_max_auto_adjusts, on_restart=on_restart, cpus=placement.client,
    )
