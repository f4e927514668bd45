"""Model Analyzer's result tables (`metrics-model-inference.csv`, `-gpu`, `-server-only`), same columns.

Rows follow Model Analyzer: per model, variants best first; within a variant the measurements that satisfy
the constraints first, each group best first. Metric values are rounded to one decimal; a table with no
rows is not written (as in Model Analyzer, e.g. the GPU tables on a machine without GPUs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_model_analyzer.analysis.gates import satisfies
from pytest_model_analyzer.analysis.ranking import ModelRanking
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.identity import CONCURRENCY, REQUEST_RATE
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS

HEADERS = {
    "model_name": "Model", "batch_size": "Batch", "concurrency": "Concurrency", "request_rate": "Request Rate",
    "model_config_path": "Model Config Path", "instance_group": "Instance Group",
    "max_batch_size": "Max Batch Size", "satisfies_constraints": "Satisfies Constraints", "gpu_uuid": "GPU UUID",
}
BACKEND_PARAMETER = "backend_parameter/"


def instance_group_string(config: Mapping[str, Any], gpu_count: int = 0) -> str:
    """Model Analyzer's `count:KIND` per kind, e.g. `2:CPU` or `2:GPU + 1:CPU`; GPU groups count per GPU."""
    groups = config.get("instance_group") or [{}]
    counts: dict[str, int] = {}
    for group in groups:
        kind = str(group.get("kind", "KIND_GPU" if gpu_count else "KIND_CPU")).split("_", 1)[-1]
        count = int(group.get("count", 1))
        if kind == "GPU":
            count *= len(group["gpus"]) if group.get("gpus") else max(gpu_count, 1)
        counts[kind] = counts.get(kind, 0) + count
    return " + ".join(f"{count}:{kind}" for kind, count in counts.items())


def searched_configs(m: Measurement) -> list[Mapping[str, Any]]:
    """The configs a measurement's figures answer for: its own; an ensemble's composing models' (it has no config
    of its own to search; Model Analyzer's summary lists them in their order); a BLS model's own, then its
    composing models'; the models' of a combination profiled together (it has no config at all)."""
    if not m.composing:
        return [m.config_in_effect]
    own = [] if not m.config or m.config.get("platform") == "ensemble" else [m.config_in_effect]
    return [*own, *(composing.get("effective_config") or composing["config"] for composing in m.composing)]


def instance_groups(m: Measurement, gpu_count: int = 0) -> str:
    """`2:CPU`, or `1:CPU, 2:CPU` for a model with composing models (in the order of searched_configs)."""
    return ", ".join(instance_group_string(config, gpu_count) for config in searched_configs(m))


def max_batch_sizes(m: Measurement) -> str:
    return ", ".join(str(config.get("max_batch_size", 0)) for config in searched_configs(m))


def composed_of(m: Measurement) -> str:
    """`; composing models add_config_3, sleep_config_1` for a model with composing models, else ''."""
    if not m.composing:
        return ""
    return "; composing models " + ", ".join(composing["variant"] for composing in m.composing)


def _cell(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if "," in text else text


def _render(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [",".join(header), *(",".join(_cell(value) for value in row) for row in rows)]
    return "\n".join(lines) + "\n\n"


def ordered_rows(rankings: Sequence[ModelRanking], constraints_of: Mapping[str, Any]) -> list[tuple[Measurement, bool]]:
    rows: list[tuple[Measurement, bool]] = []
    for ranking in rankings:
        constraints = constraints_of[ranking.model]
        for variant in ranking.variants:
            passing = [m for m in variant.measurements if satisfies(m.metrics, constraints)]
            failing = [m for m in variant.measurements if not satisfies(m.metrics, constraints)]
            rows.extend((m, True) for m in passing)
            rows.extend((m, False) for m in failing)
    return rows


# The columns Model Analyzer adds for an LLM (model_type: LLM) to its default inference table.
LLM_INFERENCE_FIELDS = ("inter_token_latency_p99", "time_to_first_token_p99", "output_token_throughput")


def _common(field: str, m: Measurement, passes: bool, gpu_count: int) -> tuple[bool, Any]:
    config = m.config_in_effect
    values = {
        "model_name": m.model, "batch_size": m.batch_size, "model_config_path": m.variant,
        "concurrency": m.load if m.load_kind == CONCURRENCY else "",
        "request_rate": m.load if m.load_kind == REQUEST_RATE else "",
        "instance_group": instance_groups(m, gpu_count),
        "max_batch_size": max_batch_sizes(m), "satisfies_constraints": "Yes" if passes else "No",
    }
    if field in values:
        return True, values[field]
    if field.startswith(BACKEND_PARAMETER):
        parameter = config.get("parameters", {}).get(field[len(BACKEND_PARAMETER):], {})
        return True, parameter.get("string_value", "") if isinstance(parameter, dict) else parameter
    return False, None


def _fields(wanted: Sequence[str], available: set[str], notes: list[str], table: str) -> list[str]:
    fields = []
    for field in wanted:
        if field in HEADERS or field.startswith(BACKEND_PARAMETER) or field in available:
            fields.append(field)
        else:
            notes.append(f"{table} output field `{field}` has no data")
    return fields


def _header(field: str) -> str:
    return HEADERS.get(field) or (METRICS[field].header if field in METRICS else field)


def inference_table(profile: ProfileConfig, rows: Sequence[tuple[Measurement, bool]], gpu_count: int,
                    notes: list[str]) -> str | None:
    if not rows:
        return None
    available = {tag for m, _ in rows for tag in m.metrics if not tag.startswith("gpu_")}
    fields = _fields(profile.run.inference_output_fields, available, notes, "inference")
    defaults = profile.explicit.isdisjoint({"inference_output_fields"})
    if any(m.load_kind == REQUEST_RATE for m, _ in rows) and "concurrency" in fields and defaults:
        fields[fields.index("concurrency")] = "request_rate"  # Model Analyzer switches the default column
    if any(model.llm is not None for model in profile.models) and defaults:
        # Model Analyzer's LLM columns, where the measurements have them (a point that did not stream has no TTFT)
        fields.extend(field for field in LLM_INFERENCE_FIELDS if field in available and field not in fields)
    table = []
    for m, passes in rows:
        row = []
        for field in fields:
            known, value = _common(field, m, passes, gpu_count)
            row.append(value if known else (round(m.metrics[field], 1) if field in m.metrics else ""))
        table.append(row)
    return _render([_header(f) for f in fields], table)


def gpu_table(profile: ProfileConfig, rows: Sequence[tuple[Measurement, bool]], gpu_count: int,
              notes: list[str]) -> str | None:
    gpu_rows = [(m, passes) for m, passes in rows if m.gpu_metrics]
    if not gpu_rows:
        return None
    available = {tag for m, _ in gpu_rows for values in m.gpu_metrics.values() for tag in values}
    fields = _fields(profile.run.gpu_output_fields, available, notes, "GPU")
    table = []
    for m, passes in gpu_rows:
        for uuid, values in m.gpu_metrics.items():
            row: list[Any] = []
            for field in fields:
                if field == "gpu_uuid":
                    row.append(uuid)
                    continue
                known, value = _common(field, m, passes, gpu_count)
                row.append(value if known else (round(values[field], 1) if field in values else ""))
            table.append(row)
    return _render([_header(f) for f in fields], table)


def server_table(profile: ProfileConfig, server_only: Mapping[str, Mapping[str, float]],
                 notes: list[str]) -> str | None:
    if not server_only:
        return None
    available = {tag for values in server_only.values() for tag in values}
    fields = _fields(profile.run.server_output_fields, available, notes, "server")
    table = []
    for uuid, values in server_only.items():
        row: list[Any] = []
        for field in fields:
            if field == "model_name":
                row.append("triton-server")
            elif field == "gpu_uuid":
                row.append(uuid)
            else:
                row.append(round(values[field], 1) if field in values else "")
        table.append(row)
    return _render([_header(f) for f in fields], table)
