"""Reads a Triton Model Analyzer checkpoint (`<n>.ckpt`, 1.58 and earlier) into our measurements.

Layout read (see the inventory): `ResultManager.results._results[model][variant] = [run_config, {key: rcm}]`,
where `run_config._model_run_configs[0]` holds the model config (`_model_config_variant.model_config` in
1.58, `_model_config` before) and `_perf_config._args` the perf_analyzer flags; each run-config measurement
holds `_model_config_measurements[0]._model_specific_pa_params` (batch size, concurrency or request rate),
`_non_gpu_data` and `_avg_gpu_data` as `[tag, {"_value": ...}]` pairs and `_gpu_data` per GPU UUID. An ensemble's
or BLS model's run config also holds `_composing_config_variants`, each composing model's `model_config` (named
as the model) and `variant_name`: they become the measurement's composing configs, as the plugin records its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.flags import effective_flags
from pytest_model_analyzer.config.model_config import ModelConfigError, normalise
from pytest_model_analyzer.domain.identity import CONCURRENCY, REQUEST_RATE, config_digest
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.domain.metrics import METRICS
from pytest_model_analyzer.infra.checkpoint import CheckpointError

# perf_analyzer arguments that do not define what is measured (the point's own values, GPU metric plumbing).
_NOT_MEASUREMENT_FLAGS = frozenset({
    "concurrency-range", "request-rate-range", "collect-metrics", "metrics-url", "metrics-interval",
    "model-name", "batch-size", "url", "protocol", "latency-report-file", "verbose-csv",
})


def _records(pairs: Any) -> dict[str, float]:
    values = {}
    for tag, record in pairs or []:
        if tag in METRICS and isinstance(record, dict) and "_value" in record:
            values[tag] = float(record["_value"])
    return values


def _model_config(run_config: dict[str, Any]) -> dict[str, Any]:
    model_run = run_config["_model_run_configs"][0]
    variant = model_run.get("_model_config_variant")
    config = variant["model_config"] if isinstance(variant, dict) else model_run["_model_config"]
    return normalise(config)


def _flags(run_config: dict[str, Any]) -> dict[str, Any]:
    args = run_config["_model_run_configs"][0].get("_perf_config", {}).get("_args", {})
    return effective_flags({name: str(value) for name, value in args.items()
                            if value is not None and name not in _NOT_MEASUREMENT_FLAGS})


def _composing(run_config: dict[str, Any]) -> list[dict[str, Any]]:
    """An ensemble's or BLS model's composing models, in order: {"model", "variant", "config"}."""
    variants = run_config["_model_run_configs"][0].get("_composing_config_variants") or []
    return [{"model": str(entry["model_config"]["name"]), "variant": str(entry["variant_name"]),
             "config": normalise(entry["model_config"])} for entry in variants]


def _check_single_model(path: Path, model: str, variant: str, run_config: dict[str, Any]) -> None:
    """Refuses the runs whose points have no counterpart here, rather than importing them as something else.

    A concurrent multi-model run (`_results["a,b"]`, one model run config per model) measured each model
    beside the others. An ensemble's composing configs in the layout before `_composing_config_variants`
    (`_ensemble_composing_configs`, `_composing_configs`) name each config by its variant, not its model."""
    model_runs = run_config["_model_run_configs"]
    if len(model_runs) > 1 or "," in model:
        names = ", ".join(str(run.get("_model_name", "?")) for run in model_runs) or model
        raise CheckpointError(
            f"{path}: `{model}` / {variant} is a concurrent multi-model run ({names} measured together, "
            "run_config_profile_models_concurrently_enable): the plugin measures one model at a time, and a point "
            "measured beside other models is not that point; import a checkpoint of single-model runs")
    if model_runs[0].get("_ensemble_composing_configs") or model_runs[0].get("_composing_configs"):
        raise CheckpointError(
            f"{path}: `{model}` / {variant} is an ensemble or BLS model in an older Model Analyzer layout (its "
            "composing configs named by variant, not by model); import a checkpoint of Model Analyzer 1.32 or "
            "later")


def import_checkpoint(path: Path) -> list[Measurement]:
    source = f"model-analyzer:{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = data["ResultManager.results"]["_results"]
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a Model Analyzer checkpoint (not valid JSON: {exc})") from None
    except (KeyError, TypeError):
        raise CheckpointError(f"{path}: not a Model Analyzer checkpoint (no ResultManager.results)") from None
    if not isinstance(results, dict):
        raise CheckpointError(f"{path}: unexpected Model Analyzer checkpoint layout (`_results` must be a mapping "
                              f"of model to variants, got {type(results).__name__})")
    measurements = []
    try:
        for model, variants in results.items():
            for variant_name, (run_config, by_key) in variants.items():
                _check_single_model(path, model, variant_name, run_config)
                config, composing = _model_config(run_config), _composing(run_config)
                setup_digest, flags = config_digest(config, composing), _flags(run_config)
                for rcm in by_key.values():
                    mcm = rcm["_model_config_measurements"][0]
                    params = mcm["_model_specific_pa_params"]
                    kind = REQUEST_RATE if params.get("request-rate-range") else CONCURRENCY
                    load = params.get("request-rate-range") or params.get("concurrency-range")
                    metrics = _records(mcm["_non_gpu_data"])
                    metrics.update(_records(rcm.get("_avg_gpu_data")))
                    gpu = {uuid: _records(pairs) for uuid, pairs in (rcm.get("_gpu_data") or {}).items()}
                    measurements.append(Measurement(
                        model=model, variant=rcm.get("_model_variants_name", variant_name),
                        batch_size=int(params["batch-size"]), load_kind=kind, load=int(load), metrics=metrics,
                        config_digest=setup_digest, config=config, perf_analyzer_flags=flags,
                        gpu_metrics=gpu, source=source, composing=composing,
                    ))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ModelConfigError) as exc:
        raise CheckpointError(f"{path}: unexpected Model Analyzer checkpoint layout ({exc!r})") from None
    return measurements
