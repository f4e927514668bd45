"""pytest-model-analyzer: Triton model profiling as pytest items, with performance gates for CI."""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what type checkers see; at run time `__getattr__` below loads them on first use
    from pytest_model_analyzer.config.points import Point
    from pytest_model_analyzer.config.profile import ModelSpec
    from pytest_model_analyzer.domain.errors import (
        ConfigError,
        GateFailure,
        MeasurementError,
        PluginError,
        PointSkipped,
    )
    from pytest_model_analyzer.domain.identity import PointId
    from pytest_model_analyzer.domain.measurement import Measurement
    from pytest_model_analyzer.domain.version import __version__
    from pytest_model_analyzer.reports.columns import Column

# Before anything imports grpc: the plugin keeps gRPC channels open (model control) while it starts
# perf_analyzer and tritonserver with fork + exec (a preexec_fn sets their parent-death signal). With gRPC core's
# fork support on, its fork handlers run in the child before exec, and about 1 child in 1,000 aborted there
# (`Epoll1Poller ... epoll_wait error: Bad file descriptor`, status -6) and failed its point. A child that
# execs at once needs no fork support; with it off, 0 of 3,000 aborted (stress test in the stop-12 note).
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

# What a conftest.py that extends the plugin uses (its pytest_ma_* hooks, the ma_measure fixture), importable
# from the package itself; loaded on first use, so that importing the package stays as light as it was.
_PUBLIC = {
    "Column": "pytest_model_analyzer.reports.columns",
    "Measurement": "pytest_model_analyzer.domain.measurement",
    "PointId": "pytest_model_analyzer.domain.identity",
    "Point": "pytest_model_analyzer.config.points",
    "ModelSpec": "pytest_model_analyzer.config.profile",
    "PluginError": "pytest_model_analyzer.domain.errors",
    "ConfigError": "pytest_model_analyzer.domain.errors",
    "MeasurementError": "pytest_model_analyzer.domain.errors",
    "GateFailure": "pytest_model_analyzer.domain.errors",
    "PointSkipped": "pytest_model_analyzer.domain.errors",
    "__version__": "pytest_model_analyzer.domain.version",
}
__all__ = ["Column", "ConfigError", "GateFailure", "Measurement", "MeasurementError", "ModelSpec", "PluginError",
           "Point", "PointId", "PointSkipped", "__version__"]


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
