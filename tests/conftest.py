"""Shared helpers: the project's example model repository and writing profiles for pytester runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Imported here so that pytester's in-process runs find them already loaded: pytester drops modules that
# an inner run imported, and importing protobuf-generated modules a second time crashes the interpreter.
import pynvml  # noqa: F401
import pytest
import tritonclient.grpc.model_config_pb2  # noqa: F401
import yaml

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
# Fast perf_analyzer windows for the end-to-end tests (see ../shared/STACK.md: 0.3-3% run-to-run variation).
FAST_FLAGS = {"measurement-mode": "time_windows", "measurement-interval": 200, "stability-percentage": 20}
FAST_FLAGS_YAML = "perf_analyzer_flags: {" + ", ".join(f"{k}: {v}" for k, v in FAST_FLAGS.items()) + "}\n"


@pytest.fixture
def models_dir() -> Path:
    return MODELS


@pytest.fixture
def write_profile(pytester: pytest.Pytester):
    """Write a profile YAML into the pytester directory; a dict is dumped, a string written as is."""

    def write(body: dict[str, Any] | str, name: str = "profile.yaml") -> Path:
        path = pytester.path / name
        text = body if isinstance(body, str) else yaml.safe_dump(body, sort_keys=False)
        path.write_text(text)
        return path

    return write
