"""Which server a local run starts, told before anything starts: the header names it, the testbed records it,
and a model it cannot load is a usage error (infra/installation.py decides; this wires it into pytest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_model_analyzer.config.profile import ProfileConfig

# The server a local run starts, in words (`tritonserver 2.51.0 (full install at ...; backends: ...)`): the header
# and the testbed name it.
SERVER_KEY = pytest.StashKey[str]()


def local_server(profile: ProfileConfig, path: Path) -> str:
    """Which server a local run will start, checked against the models it loads before anything starts: a model
    whose backend that server lacks is one usage line. "" where no local server runs, or none is installed (the
    first item says how to install one)."""
    if profile.run.triton_launch_mode != "local":
        return ""
    from pytest_model_analyzer.infra import runtime
    from pytest_model_analyzer.infra.installation import BackendMissing
    from pytest_model_analyzer.infra.stack import local_install

    try:
        return local_install(profile, runtime.prepare()).describe()
    except BackendMissing as exc:
        raise pytest.UsageError(f"{path}: {exc}") from None
    except runtime.RuntimeMissing:
        return ""
