"""The fixtures this repository's own tests share (pytest loads a root conftest.py for every test path).

The plugin itself needs no conftest: it is installed as a pytest11 entry point. Constants shared with the
benchmarks live in tests/support.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Imported here so that pytester's in-process runs find them already loaded: pytester drops modules that
# an inner run imported, and importing protobuf-generated modules a second time crashes the interpreter.
import pynvml  # noqa: F401
import pytest
import tritonclient.grpc.model_config_pb2  # noqa: F401
import yaml

from tests.support import MODELS, ROOT


@pytest.fixture(scope="session", autouse=True)
def _quick_inner_runs() -> Iterator[None]:
    """The runs the tests start (pytester subprocesses, xdist workers) start a second sooner: each of them
    compiled the whole package again (this machine sets PYTHONDONTWRITEBYTECODE, so nothing was cached) and
    imported Hypothesis only for its terminal summary.
    Their bytecode is cached under build/ (git-ignored), outside the package, and the Hypothesis plugin is off
    in them; no inner run uses Hypothesis."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        patch.setenv("PYTHONPYCACHEPREFIX", str(ROOT / "build" / "pycache"))
        addopts = os.environ.get("PYTEST_ADDOPTS", "")
        patch.setenv("PYTEST_ADDOPTS", f"{addopts} -p no:hypothesispytest".strip())
        yield


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
