"""GPU monitoring through NVML (a fake pynvml: this machine has no driver) and the CPU-side fallback."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_model_analyzer.infra import monitor


class FakeNVML:
    """Two GPUs whose readings change with each sample, like pynvml's API."""

    class NVMLError(Exception):
        pass

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls = 0

    def nvmlInit(self) -> None:
        if self.fail:
            raise self.NVMLError("Driver Not Loaded")

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> bytes:
        return f"GPU-{handle}".encode()

    def nvmlDeviceGetName(self, handle: int) -> str:
        return "Fake H100"

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        self.calls += 1
        return SimpleNamespace(used=(1000 + 100 * self.calls) * 1_000_000, total=80_000 * 1_000_000)

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=50 + 10 * handle)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 300_000  # milliwatts


def test_no_driver_is_a_clear_reason_not_an_error() -> None:
    nvml, gpus, why = monitor.open_gpus(["all"], nvml=FakeNVML(fail=True))
    assert nvml is None and gpus == []
    assert why == "no NVIDIA driver (NVMLError)"


def test_real_pynvml_without_driver_reports_library_not_found() -> None:
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:
        pytest.skip("this machine has an NVIDIA driver")
    _, gpus, why = monitor.open_gpus(["all"])
    assert gpus == [] and why.startswith("no NVIDIA driver (NVMLError")


def test_gpu_selection_by_index_or_uuid() -> None:
    _, gpus, _ = monitor.open_gpus(["1"], nvml=FakeNVML())
    assert [gpu.uuid for gpu in gpus] == ["GPU-1"]
    _, gpus, _ = monitor.open_gpus(["GPU-0"], nvml=FakeNVML())
    assert [gpu.index for gpu in gpus] == [0]
    _, gpus, why = monitor.open_gpus(["7"], nvml=FakeNVML())
    assert gpus == [] and why == "no GPU matches `gpus`"


def test_recording_gives_max_memory_average_utilisation_per_gpu_and_combined() -> None:
    nvml = FakeNVML()
    _, gpus, _ = monitor.open_gpus(["all"], nvml=nvml)
    resources = monitor.ResourceMonitor(interval=0.01, gpu=monitor.gpu_sampler(nvml, gpus), gpus=gpus)
    with resources.record() as recording:
        time.sleep(0.05)
    metrics, per_gpu = recording.result()
    assert set(per_gpu) == {"GPU-0", "GPU-1"}
    assert per_gpu["GPU-0"]["gpu_utilization"] == 50 and per_gpu["GPU-1"]["gpu_utilization"] == 60
    assert per_gpu["GPU-0"]["gpu_power_usage"] == 300.0
    assert per_gpu["GPU-0"]["gpu_used_memory"] > 1100  # the max over samples, not the first
    # Across GPUs: memory summed, the rest averaged (Model Analyzer's rule).
    assert metrics["gpu_used_memory"] == per_gpu["GPU-0"]["gpu_used_memory"] + per_gpu["GPU-1"]["gpu_used_memory"]
    assert metrics["gpu_utilization"] == 55


def test_prometheus_cpu_metrics() -> None:
    text = "# HELP nv_cpu_utilization\nnv_cpu_utilization 0.25\nnv_cpu_memory_used_bytes 2.5e+09\nother 1\n"
    assert monitor.parse_prometheus(text, ("nv_cpu_utilization", "nv_cpu_memory_used_bytes")) == {
        "nv_cpu_utilization": 0.25, "nv_cpu_memory_used_bytes": 2.5e9}


def test_summarise_max_for_memory_average_for_the_rest() -> None:
    samples = [{"cpu_utilization": 10.0, "cpu_used_ram": 100.0}, {"cpu_utilization": 30.0, "cpu_used_ram": 50.0}]
    assert monitor.summarise(samples) == {"cpu_utilization": 20.0, "cpu_used_ram": 100.0}


RECORDED = (Path(__file__).parent / "triton_gpu_metrics.prom").read_text()
UUID = "GPU-312be29d-d937-fa49-8948-c73f3c3193cf"


def test_a_servers_gpu_metrics_read_as_nvml_would_give_them() -> None:
    """Triton's nv_gpu_* gauges, mapped as Model Analyzer's RemoteMonitor maps them (bytes -> MB, fraction -> %)."""
    per_gpu = monitor.server_gpu_metrics(RECORDED)
    assert sorted(per_gpu) == sorted([UUID, "GPU-e35ba3d2-6eef-2bb9-e35c-6ef6eada4f11"])
    assert per_gpu[UUID] == pytest.approx({"gpu_used_memory": 1082.130432, "gpu_total_memory": 85520.809984,
                                           "gpu_utilization": 43.0, "gpu_power_usage": 118.512})
    assert list(monitor.server_gpu_metrics(RECORDED, [UUID])) == [UUID]  # `gpus` selects by UUID


def test_label_values_with_quotes_and_braces_are_parsed() -> None:
    text = 'nv_gpu_power_usage{gpu_uuid="GPU-1",note="a \\"b\\" {c}, d"} 5\n'
    assert monitor.server_gpu_metrics(text) == {"GPU-1": {"gpu_power_usage": 5.0}}


def test_a_malformed_metrics_text_keeps_what_came_before() -> None:
    text = 'nv_cpu_utilization 0.5\nnv_cpu_memory_used_bytes{ 12\n'
    assert monitor.parse_prometheus(text, ("nv_cpu_utilization", "nv_cpu_memory_used_bytes")) == {
        "nv_cpu_utilization": 0.5}


def test_a_remote_server_without_gpu_metrics_says_why(tmp_path: Path) -> None:
    sampler, gpus, why = monitor.open_server_gpus("", ["all"])
    assert (sampler, gpus, why) == (None, [], "no triton_metrics_url for the remote server")
    sampler, gpus, why = monitor.open_server_gpus("http://127.0.0.1:9/metrics", ["all"])
    assert sampler is None and "cannot be read" in why


def test_a_counter_is_found_under_the_name_triton_gives_it() -> None:
    text = ("# TYPE nv_inference_request_success counter\n"
            'nv_inference_request_success{model="add",version="1"} 5\n'
            'nv_inference_request_success{model="sleep",version="1"} 2\n')
    assert monitor.parse_prometheus(text, ["nv_inference_request_success"]) == {"nv_inference_request_success": 7.0}
