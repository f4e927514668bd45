"""On a machine with an NVIDIA GPU: NVML sampling, KIND_GPU variants and one GPU per xdist worker, through the
real server.

CI has no GPU, so these skip there (saying why); the NVML code paths are unit-tested with a fake pynvml in
tests/infra/test_monitor.py. Run them on a GPU host with `pytest tests/e2e/test_gpu.py -v`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pytest_model_analyzer.infra.monitor import gpu_inventory
from tests.support import FAST_FLAGS_YAML, example_server

GPUS = gpu_inventory()
pytestmark = pytest.mark.skipif(not GPUS, reason="no NVIDIA GPU: NVML reports none on this machine")


def probe_repo(model_repo, tmp_path: Path) -> tuple[Path, Path]:
    """The gpu_probe model, told where to write what each of its instances runs on."""
    repo = model_repo("gpu_probe")
    probe = tmp_path / "instances.jsonl"
    config = repo / "gpu_probe" / "config.pbtxt"
    config.write_text(config.read_text()
                      + f'parameters {{ key: "probe_file" value {{ string_value: "{probe}" }} }}\n')
    return repo, probe


def gpu_sweep(repo: Path, count: int, concurrency: str) -> str:
    """The repository's config and one variant with `count` KIND_GPU instances."""
    return f"""
model_repository: {repo}
run_config_search_disable: true
profile_models:
  gpu_probe:
    model_config_parameters:
      instance_group: [[{{kind: KIND_GPU, count: {count}}}]]
concurrency: {concurrency}
{FAST_FLAGS_YAML}"""


def instances(probe: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []


def test_gpu_variants_are_measured_with_nvml_metrics(run_profile, model_repo, tmp_path: Path,
                                                     pytester: pytest.Pytester) -> None:
    repo, probe = probe_repo(model_repo, tmp_path)
    run = run_profile(gpu_sweep(repo, count=2, concurrency="[1, 8]"), "-v")
    output = run.result.stdout.str()
    assert run.result.ret == pytest.ExitCode.OK, output
    assert len(run.measured) == 4  # the repository's config (one GPU instance by default) and config_0
    gpu = GPUS[0]
    note = f"GPU metrics from NVML: 0: {gpu.name} ({gpu.uuid})"
    assert note in output and note in (pytester.path / "reports" / "summary.html").read_text()
    for measurement in run.measured:
        per_gpu = measurement["gpu_metrics"]
        assert set(per_gpu) == {g.uuid for g in GPUS}, measurement
        # The server holds a CUDA context and memory pool on the GPU while it measures.
        assert per_gpu[gpu.uuid]["gpu_used_memory"] > 0
        assert 0 <= per_gpu[gpu.uuid]["gpu_utilization"] <= 100
        assert per_gpu[gpu.uuid]["gpu_power_usage"] > 0
        assert measurement["metrics"]["gpu_used_memory"] > 0
    # Triton placed the instances on the GPU: one by default, two in config_0.
    kinds = [record["kind"] for record in instances(probe)]
    assert kinds.count("GPU") >= 3 and set(kinds) == {"GPU"}, kinds
    with (pytester.path / "results" / "metrics-model-gpu.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * len(GPUS) and {row["GPU UUID"] for row in rows} == {g.uuid for g in GPUS}
    assert all(float(row["GPU Memory Usage (MB)"]) > 0 for row in rows)


def test_each_worker_server_sees_only_its_gpu(run_profile, model_repo, tmp_path: Path) -> None:
    repo, probe = probe_repo(model_repo, tmp_path)
    workers = len(GPUS)
    run = run_profile(gpu_sweep(repo, count=1, concurrency="[1, 2]"), "-n", str(workers), "-v")
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    records = instances(probe)
    assert records, "no instance was loaded"
    # Every server was started with CUDA_VISIBLE_DEVICES naming one GPU by UUID: its instances see device 0.
    assert {record["cuda_visible_devices"] for record in records} <= {g.uuid for g in GPUS}
    assert {record["device_id"] for record in records} == {"0"}
    for measurement in run.measured:
        assert len(measurement["gpu_metrics"]) == 1, measurement  # NVML sampled that worker's GPU only


def test_more_workers_than_gpus_is_a_usage_error(run_profile, model_repo, tmp_path: Path) -> None:
    repo, _ = probe_repo(model_repo, tmp_path)
    run = run_profile(f"model_repository: {repo}\nprofile_models: gpu_probe\n", "-n", str(len(GPUS) + 1))
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stderr.fnmatch_lines([f"*-n {len(GPUS) + 1}: * GPU(s) selected by `gpus`*one worker per GPU*"])


def test_a_remote_servers_own_gpus_come_from_its_metrics_endpoint(run_profile, tmp_path: Path) -> None:
    """Remote mode reads the GPUs from the server's `nv_gpu_*` gauges, not from this machine's NVML: on a GPU
    host, a real server's gauges name the same GPUs, by UUID, as NVML does (tests/e2e/test_remote.py covers the
    parsing with recorded gauges on any machine)."""
    server = example_server(tmp_path / "server.log")
    endpoints = server.start()
    try:
        run = run_profile(f"""
triton_launch_mode: remote
triton_http_endpoint: {endpoints.http}
triton_grpc_endpoint: {endpoints.grpc}
triton_metrics_url: {endpoints.metrics_url}
run_config_search_disable: true
profile_models: add
concurrency: 1
{FAST_FLAGS_YAML}""", "-s")
    finally:
        server.stop()
    assert run.result.ret == pytest.ExitCode.OK, run.result.stdout.str()
    note = next(line for line in run.result.outlines
                if f"GPU metrics from the server's metrics at {endpoints.metrics_url}: " in line)
    assert note.count("GPU of the remote server") == len(GPUS) and all(g.uuid in note for g in GPUS), note
    assert len(run.measured) == 1
    per_gpu = run.measured[0]["gpu_metrics"]
    assert set(per_gpu) == {g.uuid for g in GPUS}
    for figures in per_gpu.values():
        assert figures["gpu_total_memory"] > 0 and figures["gpu_power_usage"] > 0
        assert 0 <= figures["gpu_utilization"] <= 100
