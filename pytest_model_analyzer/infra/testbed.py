"""The testbed a checkpoint was measured on: CPU, GPUs and driver, and the versions of the tools.

Every checkpoint records it; `--ma-compare` warns when the baseline was measured on another testbed (a
different CPU or GPU makes every point look changed), and `--ma-compare-same-testbed` refuses to compare.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata

from pytest_model_analyzer.domain.version import __version__
from pytest_model_analyzer.infra.monitor import GpuInfo

# What makes measurements comparable; the rest is recorded for the reader.
COMPARED = ("cpu", "cores", "gpus", "gpu_driver")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def _gpu_driver() -> str:
    try:
        import pynvml

        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:  # no driver, no library: no GPU to describe
        return ""


def fingerprint(gpus: Sequence[GpuInfo], server: str = "") -> dict[str, str]:
    """`server`: the local server in words (infra/installation.py), else the bundled server's wheel version."""
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "gpus": ", ".join(gpu.name for gpu in gpus),
        "gpu_driver": _gpu_driver() if any(gpu.handle is not None for gpu in gpus) else "",  # NVML's GPUs only
        "plugin": __version__,
        "tritonclient": _version("tritonclient"),  # perf_analyzer ships in this wheel
        "triton_server": server or _version("nvidia-pytriton"),
        "python": platform.python_version(),
    }


def differences(baseline: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """`cpu: A -> B` for each compared field that differs (fields a checkpoint does not record are skipped)."""
    return [f"{key}: {baseline[key] or '-'} -> {current.get(key) or '-'}" for key in COMPARED
            if key in baseline and baseline[key] != current.get(key, "")]
