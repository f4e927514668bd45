"""Model Analyzer's CSV tables: same columns, order and formatting as its golden files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.reports import csv_tables
from pytest_model_analyzer.reports.export import rankings
from tests.support import MODELS


def measurement(variant: str, batch: int, load: int, throughput: float, p99: float, count: int, mbs: int,
                gpu: dict | None = None) -> Measurement:
    config = {"max_batch_size": mbs, "instance_group": [{"count": count, "kind": "KIND_GPU"}]}
    return Measurement("add", variant, batch, "concurrency", load,
                       {"perf_throughput": throughput, "perf_latency_p99": p99},
                       config_digest=variant, config=config, effective_config=config, gpu_metrics=gpu or {})


def profile(extra: dict | None = None):
    return build_profile({"model_repository": str(MODELS), "profile_models": "add", "concurrency": [1, 2],
                          **(extra or {})}, cwd=Path.cwd())


def test_inference_table_like_model_analyzers_golden_file() -> None:
    rows = [measurement("add_config_default", 1, 1, 3140.71, 0.52, 1, 8),
            measurement("add_config_default", 2, 2, 15082.83, 0.44, 1, 8),
            measurement("add_config_0", 1, 1, 2895.04, 0.51, 2, 1),
            measurement("add_config_0", 1, 2, 7366.12, 0.46, 2, 1)]
    p = profile()
    text = csv_tables.inference_table(p, csv_tables.ordered_rows(rankings(p, rows), {"add": {}}), 1, [])
    assert text == (
        "Model,Batch,Concurrency,Model Config Path,Instance Group,Max Batch Size,Satisfies Constraints,"
        "Throughput (infer/sec),p99 Latency (ms)\n"
        "add,2,2,add_config_default,1:GPU,8,Yes,15082.8,0.4\n"
        "add,1,1,add_config_default,1:GPU,8,Yes,3140.7,0.5\n"
        "add,1,2,add_config_0,2:GPU,1,Yes,7366.1,0.5\n"
        "add,1,1,add_config_0,2:GPU,1,Yes,2895.0,0.5\n\n"
    )


def test_output_fields_choose_columns_and_unknown_ones_are_noted() -> None:
    p = profile({"inference_output_fields": "model_name,perf_latency_p99,gpu_made_up"})
    notes: list[str] = []
    text = csv_tables.inference_table(p, [(measurement("add_config_default", 1, 1, 10, 2.25, 1, 8), False)], 1,
                                      notes)
    assert text == "Model,p99 Latency (ms)\nadd,2.2\n\n"
    assert notes == ["inference output field `gpu_made_up` has no data"]


def test_gpu_table_one_row_per_gpu_and_none_without_gpu_data() -> None:
    p = profile()
    gpu = {"GPU-a": {"gpu_used_memory": 1000.04, "gpu_utilization": 50.0, "gpu_power_usage": 100.0},
           "GPU-b": {"gpu_used_memory": 900.0, "gpu_utilization": 40.0, "gpu_power_usage": 90.0}}
    rows = [(measurement("add_config_default", 1, 1, 10, 1, 1, 8, gpu), True)]
    text = csv_tables.gpu_table(p, rows, 2, [])
    assert text.splitlines()[0] == ("Model,GPU UUID,Batch,Concurrency,Model Config Path,Instance Group,"
                                    "Satisfies Constraints,GPU Memory Usage (MB),GPU Utilization (%),"
                                    "GPU Power Usage (W)")
    assert text.splitlines()[1:3] == ["add,GPU-a,1,1,add_config_default,2:GPU,Yes,1000.0,50.0,100.0",
                                      "add,GPU-b,1,1,add_config_default,2:GPU,Yes,900.0,40.0,90.0"]
    assert csv_tables.gpu_table(p, [(measurement("add_config_default", 1, 1, 10, 1, 1, 8), True)], 0, []) is None


def test_instance_group_strings() -> None:
    assert csv_tables.instance_group_string({"instance_group": [{"count": 2, "kind": "KIND_CPU"}]}) == "2:CPU"
    mixed = {"instance_group": [{"count": 1, "kind": "KIND_GPU"}, {"count": 3, "kind": "KIND_CPU"}]}
    assert csv_tables.instance_group_string(mixed, 2) == "2:GPU + 3:CPU"
    assert csv_tables.instance_group_string({}, 0) == "1:CPU"


def test_the_best_config_is_never_written_outside_the_output_repository(tmp_path: Path) -> None:
    from pytest_model_analyzer.infra.model_directory import write_model

    with pytest.raises(ValueError, match="would be written outside"):
        write_model(tmp_path / "out", "../victim_config_default", {"max_batch_size": 8}, None, override=True)
    assert not (tmp_path / "victim_config_default").exists()
