"""Resource metrics sampled while perf_analyzer runs: GPUs through NVML, else the CPU side.

With a GPU driver, `pynvml` gives per GPU `gpu_used_memory` (MB, max), `gpu_utilization` (%, avg) and
`gpu_power_usage` (W, avg); across GPUs memory is summed and the rest averaged, as Model Analyzer does.
A remote server's GPUs are not this machine's: there the same figures come from the server's own
`nv_gpu_*` metrics at `triton_metrics_url`, as Model Analyzer's RemoteMonitor reads them.
Without GPU figures (`NVMLError_LibraryNotFound` and friends) the server's metrics endpoint gives
`cpu_utilization` (%, avg) and `cpu_memory_used` (MB, max, whole machine), and with `collect_cpu_metrics`
the server process tree's resident memory is `cpu_used_ram` (MB, max).

The metrics text is parsed with `prometheus_client`'s parser (the one Model Analyzer uses): label values may
hold escaped quotes, commas and braces, which a line split gets wrong.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Sample = dict[str, float]


@dataclass
class GpuInfo:
    uuid: str
    index: int
    name: str
    handle: Any = field(repr=False, default=None)


def open_gpus(selection: Sequence[str], nvml: Any = None) -> tuple[Any, list[GpuInfo], str]:
    """(pynvml, the selected GPUs, why there are none). `nvml` lets tests pass a fake module."""
    if nvml is None:
        try:
            import pynvml

            nvml = pynvml
        except ImportError:
            return None, [], "nvidia-ml-py (pynvml) is not installed"
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return None, [], f"no NVIDIA driver ({exc.__class__.__name__})"
    gpus = []
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        uuid = nvml.nvmlDeviceGetUUID(handle)
        uuid = uuid.decode() if isinstance(uuid, bytes) else uuid
        name = nvml.nvmlDeviceGetName(handle)
        name = name.decode() if isinstance(name, bytes) else name
        gpus.append(GpuInfo(uuid=uuid, index=index, name=name, handle=handle))
    wanted = [item for item in selection if item != "all"]
    if wanted:
        gpus = [gpu for gpu in gpus if str(gpu.index) in wanted or gpu.uuid in wanted]
    if not gpus:
        return None, [], "no GPU matches `gpus`" if wanted else "the driver reports no GPU"
    return nvml, gpus, ""


def gpu_inventory(selection: Sequence[str] = ("all",)) -> list[GpuInfo]:
    """The GPUs an NVIDIA driver reports (none without a driver), filtered by the `gpus` option."""
    return open_gpus(selection)[1]


def gpu_sampler(nvml: Any, gpus: Sequence[GpuInfo]) -> Callable[[], dict[str, Sample]]:
    def sample() -> dict[str, Sample]:
        result = {}
        for gpu in gpus:
            memory = nvml.nvmlDeviceGetMemoryInfo(gpu.handle)
            result[gpu.uuid] = {
                "gpu_used_memory": memory.used / 1e6,
                "gpu_total_memory": memory.total / 1e6,
                "gpu_utilization": float(nvml.nvmlDeviceGetUtilizationRates(gpu.handle).gpu),
                "gpu_power_usage": nvml.nvmlDeviceGetPowerUsage(gpu.handle) / 1000.0,
            }
        return result

    return sample


def read_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of a Prometheus text exposition, by name: [(labels, value)]. A malformed line ends the
    reading there; what came before it is kept."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                entry = (dict(sample.labels), float(sample.value))
                samples.setdefault(sample.name, []).append(entry)
                if family.type == "counter" and sample.name == f"{family.name}_total":
                    # The parser names a counter's samples `<name>_total`; Triton's counters have no suffix.
                    samples.setdefault(family.name, []).append(entry)
    except (ValueError, TypeError, IndexError):
        pass
    return samples


def parse_prometheus(text: str, names: Sequence[str]) -> dict[str, float]:
    """Sum of each named metric over its label sets (the CPU gauges carry none)."""
    samples = read_prometheus(text)
    return {name: sum(value for _, value in samples[name]) for name in names if name in samples}


def fetch_metrics(url: str) -> str | None:
    """The server's metrics text, or None when it cannot be read within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return str(response.read().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None


# Triton's GPU gauges -> (our metric, scale), as Model Analyzer's RemoteMonitor maps them.
_SERVER_GPU_METRICS = {
    "nv_gpu_memory_used_bytes": ("gpu_used_memory", 1e-6),
    "nv_gpu_memory_total_bytes": ("gpu_total_memory", 1e-6),
    "nv_gpu_utilization": ("gpu_utilization", 100.0),  # Triton reports a fraction in [0, 1)
    "nv_gpu_power_usage": ("gpu_power_usage", 1.0),
}


def server_gpu_metrics(text: str, selection: Sequence[str] = ("all",)) -> dict[str, Sample]:
    """Per GPU UUID, the figures NVML would give, from a server's `nv_gpu_*` metrics. `gpus` selects by UUID
    here (the server's device indices are not this machine's)."""
    wanted = {item for item in selection if item != "all"}
    samples = read_prometheus(text)
    per_gpu: dict[str, Sample] = {}
    for name, (metric, scale) in _SERVER_GPU_METRICS.items():
        for labels, value in samples.get(name, []):
            uuid = labels.get("gpu_uuid", "")
            if uuid and (not wanted or uuid in wanted):
                per_gpu.setdefault(uuid, {})[metric] = value * scale
    return per_gpu


def open_server_gpus(metrics_url: str, selection: Sequence[str]
                     ) -> tuple[Callable[[], dict[str, Sample]] | None, list[GpuInfo], str]:
    """(a sampler of the server's GPU metrics, its GPUs, why there are none) for a remote server."""
    if not metrics_url:
        return None, [], "no triton_metrics_url for the remote server"
    text = fetch_metrics(metrics_url)
    if text is None:
        return None, [], f"the server's metrics at {metrics_url} cannot be read"
    found = server_gpu_metrics(text, selection)
    if not found:
        return None, [], f"the server's metrics at {metrics_url} report no GPU (nv_gpu_*)"
    gpus = [GpuInfo(uuid=uuid, index=index, name="GPU of the remote server") for index, uuid in enumerate(found)]

    def sample() -> dict[str, Sample]:
        current = fetch_metrics(metrics_url)
        return server_gpu_metrics(current, selection) if current is not None else {}

    return sample, gpus, ""


def _process_tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants (the server and its backend stubs)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parent = int(fields[1])
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
        rss[int(entry.name)] = pages * 4096 / 1e6
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0.0)
        stack.extend(children.get(current, []))
    return total


def cpu_sampler(metrics_url: str | None, server_pid: Callable[[], int | None] | None) -> Callable[[], Sample]:
    def sample() -> Sample:
        result: Sample = {}
        text = fetch_metrics(metrics_url) if metrics_url else None
        if text is not None:
            found = parse_prometheus(text, ("nv_cpu_utilization", "nv_cpu_memory_used_bytes"))
            if "nv_cpu_utilization" in found:
                result["cpu_utilization"] = found["nv_cpu_utilization"] * 100.0
            if "nv_cpu_memory_used_bytes" in found:
                result["cpu_memory_used"] = found["nv_cpu_memory_used_bytes"] / 1e6
        pid = server_pid() if server_pid else None
        if pid:
            result["cpu_used_ram"] = _process_tree_rss_mb(pid)
        return result

    return sample


_MAX_METRICS = frozenset({"gpu_used_memory", "gpu_total_memory", "cpu_memory_used", "cpu_used_ram"})


def summarise(samples: Sequence[Sample]) -> Sample:
    """Max for memory, average for the rest."""
    keys = {key for sample in samples for key in sample}
    result = {}
    for key in keys:
        seen = [sample[key] for sample in samples if key in sample]
        result[key] = max(seen) if key in _MAX_METRICS else sum(seen) / len(seen)
    return result


def combine_gpus(per_gpu: dict[str, Sample]) -> Sample:
    """Across GPUs memory is summed and the rest averaged (Model Analyzer's rule)."""
    if not per_gpu:
        return {}
    keys = {key for sample in per_gpu.values() for key in sample}
    result = {}
    for key in keys:
        seen = [sample[key] for sample in per_gpu.values() if key in sample]
        result[key] = sum(seen) if key.endswith("memory") else sum(seen) / len(seen)
    return result


class Recording:
    """Samples every `interval` seconds in a thread, and once more at the start and at the end."""

    def __init__(self, monitor: ResourceMonitor) -> None:
        self.monitor = monitor
        self.cpu: list[Sample] = []
        self.gpu: list[dict[str, Sample]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ma-monitor", daemon=True)

    def _take(self) -> None:
        if self.monitor.gpu is not None:
            self.gpu.append(self.monitor.gpu())
        if self.monitor.cpu is not None:
            self.cpu.append(self.monitor.cpu())

    def _run(self) -> None:
        while not self._stop.wait(self.monitor.interval):
            self._take()

    def __enter__(self) -> Recording:
        self._take()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def result(self) -> tuple[Sample, dict[str, Sample]]:
        """(metrics for the measurement, per-GPU metrics)."""
        per_gpu: dict[str, Sample] = {}
        for uuid in {uuid for sample in self.gpu for uuid in sample}:
            per_gpu[uuid] = summarise([sample[uuid] for sample in self.gpu if uuid in sample])
        metrics = combine_gpus(per_gpu)
        metrics.update(summarise(self.cpu))
        return metrics, per_gpu


@dataclass
class ResourceMonitor:
    interval: float
    gpu: Callable[[], dict[str, Sample]] | None = None
    cpu: Callable[[], Sample] | None = None
    gpus: list[GpuInfo] = field(default_factory=list)
    unavailable: str = ""  # why there are no GPU metrics, when there are none
    gpu_source: str = "NVML"  # where the GPU figures come from, for the run's note

    def record(self) -> Recording:
        return Recording(self)

    def idle_metrics(self, seconds: float) -> dict[str, Sample]:
        """Per-GPU metrics sampled for `seconds` while nothing is measured (Model Analyzer's server-only data)."""
        if self.gpu is None:
            return {}
        with self.record() as recording:
            time.sleep(seconds)
        return recording.result()[1]
