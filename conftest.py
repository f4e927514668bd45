"""The fixtures this repository's own tests share (pytest loads a root conftest.py for every test path).

The plugin itself needs no conftest: it is installed as a pytest11 entry point. Constants shared with the
benchmarks live in tests/support.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Imported here so that pytester's in-process runs find them already loaded: pytester drops modules that
# an inner run imported, and importing protobuf-generated modules a second time crashes the interpreter.
import pynvml  # noqa: F401
import pytest
import tritonclient.grpc.model_config_pb2  # noqa: F401
import yaml

from tests.support import MODELS


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
