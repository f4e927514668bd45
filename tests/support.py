"""Constants the repository's tests share: the example model repository and fast perf_analyzer windows."""

from __future__ import annotations

from pathlib import Path

from pytest_model_analyzer.infra.monitor import gpu_inventory

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
# Fast perf_analyzer windows for the end-to-end tests (see ../shared/STACK.md: 0.3-3% run-to-run variation).
FAST_FLAGS = {"measurement-mode": "time_windows", "measurement-interval": 200, "stability-percentage": 20}
FAST_FLAGS_YAML = "perf_analyzer_flags: {" + ", ".join(f"{k}: {v}" for k, v in FAST_FLAGS.items()) + "}\n"
# The end-to-end tests run on CPU hosts (CI) and GPU hosts alike; where they differ, they ask this.
HAS_GPU = bool(gpu_inventory())
