"""The run's own settings, typed and frozen: what the layers above `config/` read of the profile.

The option table (`options.py`) resolves every key to a value of its placeholder type; this is the one place
that turns the run-wide ones into typed fields. Each field keeps Model Analyzer's key as its name, so the
configuration reference (docs/reference/configuration.md) is also the reference of this class. Per-model
settings live on `ModelSpec`, the search's on `search_settings.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


def _strings(value: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@dataclass(frozen=True)
class RunSettings:
    """Every run-wide key that something outside `config/` acts on, under its YAML name."""

    # the profile
    model_repository: Path | None
    # the server
    triton_launch_mode: str  # local, remote or c_api (checked by settings.check_modes)
    triton_server_path: str  # a path, or a bare name looked up on PATH (infra/runtime.py)
    triton_install_path: str  # c_api: the directory holding lib/libtritonserver.so
    triton_output_path: Path | None
    client_max_retries: int  # seconds a started local server has to become ready (Model Analyzer: a retry a second)
    reload_model_disable: bool
    client_protocol: str  # grpc or http
    triton_http_endpoint: str
    triton_grpc_endpoint: str
    triton_metrics_url: str
    # one per xdist worker, or None for the single endpoint above
    triton_http_endpoints: tuple[str, ...] | None
    triton_grpc_endpoints: tuple[str, ...] | None
    triton_metrics_urls: tuple[str, ...] | None
    # perf_analyzer
    perf_analyzer_path: str  # as triton_server_path
    perf_analyzer_timeout: int  # seconds for one measurement, its model's load included
    perf_analyzer_max_auto_adjusts: int
    perf_output: bool
    perf_output_path: Path | None
    # monitoring
    gpus: tuple[str, ...]  # ids, UUIDs or `all`
    monitoring_interval: float  # seconds
    duration_seconds: int  # server-only sampling
    collect_cpu_metrics: bool
    always_report_gpu_metrics: bool
    # checkpoints and reports
    checkpoint_directory: Path
    export_path: Path
    filename_model_inference: str
    filename_model_gpu: str
    filename_server_only: str
    inference_output_fields: tuple[str, ...]
    gpu_output_fields: tuple[str, ...]
    server_output_fields: tuple[str, ...]
    num_configs_per_model: int
    num_top_model_configs: int
    skip_summary_reports: bool
    skip_detailed_reports: bool
    report_model_configs: tuple[Any, ...]  # `model-analyzer report`'s key: names, or {name: options}
    output_model_repository_path: Path
    override_output_model_repository: bool

    @classmethod
    def from_options(cls, resolved: Mapping[str, Any]) -> RunSettings:
        """From `settings.resolve_settings`' values (already parsed and checked)."""

        def path(key: str) -> Path | None:
            value = resolved[key]
            return Path(value) if value else None

        def required_path(key: str) -> Path:
            return Path(resolved[key])

        def strings(key: str) -> tuple[str, ...]:
            return tuple(resolved[key] or ())

        r = resolved
        return cls(
            model_repository=path("model_repository"),
            triton_launch_mode=r["triton_launch_mode"],
            triton_server_path=r["triton_server_path"],
            triton_install_path=r["triton_install_path"],
            triton_output_path=path("triton_output_path"),
            client_max_retries=r["client_max_retries"],
            reload_model_disable=r["reload_model_disable"],
            client_protocol=r["client_protocol"],
            triton_http_endpoint=r["triton_http_endpoint"],
            triton_grpc_endpoint=r["triton_grpc_endpoint"],
            triton_metrics_url=r["triton_metrics_url"],
            triton_http_endpoints=_strings(r["triton_http_endpoints"]),
            triton_grpc_endpoints=_strings(r["triton_grpc_endpoints"]),
            triton_metrics_urls=_strings(r["triton_metrics_urls"]),
            perf_analyzer_path=r["perf_analyzer_path"],
            perf_analyzer_timeout=r["perf_analyzer_timeout"],
            perf_analyzer_max_auto_adjusts=r["perf_analyzer_max_auto_adjusts"],
            perf_output=r["perf_output"],
            perf_output_path=path("perf_output_path"),
            gpus=strings("gpus"),
            monitoring_interval=float(r["monitoring_interval"]),
            duration_seconds=r["duration_seconds"],
            collect_cpu_metrics=r["collect_cpu_metrics"],
            always_report_gpu_metrics=r["always_report_gpu_metrics"],
            checkpoint_directory=required_path("checkpoint_directory"),
            export_path=required_path("export_path"),
            filename_model_inference=r["filename_model_inference"],
            filename_model_gpu=r["filename_model_gpu"],
            filename_server_only=r["filename_server_only"],
            inference_output_fields=strings("inference_output_fields"),
            gpu_output_fields=strings("gpu_output_fields"),
            server_output_fields=strings("server_output_fields"),
            num_configs_per_model=r["num_configs_per_model"],
            num_top_model_configs=r["num_top_model_configs"],
            skip_summary_reports=r["skip_summary_reports"],
            skip_detailed_reports=r["skip_detailed_reports"],
            report_model_configs=tuple(r["report_model_configs"] or ()),
            output_model_repository_path=required_path("output_model_repository_path"),
            override_output_model_repository=r["override_output_model_repository"],
        )

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The option keys this class types (each one a key of the option table: a test checks it)."""
        return frozenset(field.name for field in fields(cls))

    def remote_endpoints(self, slot: int | None) -> tuple[str, str, str]:
        """(http, grpc, metrics URL) of the remote server for an xdist worker slot (or the only one)."""
        if self.triton_grpc_endpoints is None:
            return self.triton_http_endpoint, self.triton_grpc_endpoint, self.triton_metrics_url
        index = slot or 0
        metrics = self.triton_metrics_urls[index] if self.triton_metrics_urls else ""
        assert self.triton_http_endpoints is not None  # settings.check_modes: both lists or neither
        return self.triton_http_endpoints[index], self.triton_grpc_endpoints[index], metrics
