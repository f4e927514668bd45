"""Which Triton server a local run starts, what it is, and whether it can load the profile's models.

The bundled server (the `runtime` extra's nvidia-pytriton wheel) runs Python-backend models only: its wheel ships
`backends/python` alone. Most Triton users profile ONNX, TensorRT or PyTorch models with a full server: NVIDIA's
container (`/opt/tritonserver`) or their own install. So the default `triton_server_path` prefers a full server,
and a model whose backend the chosen server lacks is refused before anything loads, with one line that names
the ways out, instead of a load failure per item.
"""

from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_model_analyzer.domain.errors import PluginError
from pytest_model_analyzer.infra import runtime as rt

CONTAINER_ROOT = Path("/opt/tritonserver")  # where NVIDIA's Triton container installs the server
DEFAULT_SERVER = "tritonserver"  # triton_server_path's default: the server is found, not named
# A model config's `platform` and the backend that serves it (Triton's model configuration docs).
PLATFORM_BACKENDS = {
    "onnxruntime_onnx": "onnxruntime", "tensorrt_plan": "tensorrt", "pytorch_libtorch": "pytorch",
    "tensorflow_graphdef": "tensorflow", "tensorflow_savedmodel": "tensorflow", "openvino_xml": "openvino",
}
BUILT_IN = frozenset({"ensemble"})  # served by the core, no backend directory
WAYS_OUT = ("run in NVIDIA's Triton container (nvcr.io/nvidia/tritonserver), set triton_server_path to a full "
            "tritonserver install, or measure a running server with triton_launch_mode: remote")


class ServerKind(enum.Enum):
    FULL = "full install"  # NVIDIA's container or the user's own, found on PATH or at CONTAINER_ROOT
    BUNDLED = "bundled"  # the runtime extra's nvidia-pytriton wheel
    CONFIGURED = "triton_server_path"  # named by the profile


@dataclass(frozen=True)
class ServerInstall:
    executable: Path
    kind: ServerKind
    backend_dir: Path | None  # its backends (--backend-directory); None: the server's own default
    backends: tuple[str, ...]  # what that directory holds
    version: str  # "" when the install does not say

    def describe(self) -> str:
        """`tritonserver 2.51.0 (full install at /opt/tritonserver; backends: onnxruntime, python)`."""
        where = (f"bundled with nvidia-pytriton {_package_version('nvidia-pytriton')}".rstrip()
                 if self.kind is ServerKind.BUNDLED else f"{self.kind.value} at {_root(self.executable)}")
        version = f" {self.version}" if self.version else ""
        return f"tritonserver{version} ({where}; backends: {', '.join(self.backends) or 'none found'})"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _root(executable: Path) -> Path:
    """`<root>` of `<root>/bin/tritonserver`, without following links (a laid-out install may link its binary)."""
    return Path(os.path.abspath(executable)).parent.parent


def _installed(executable: Path, kind: ServerKind) -> ServerInstall:
    root = _root(executable)
    backend_dir = root / "backends"
    version_file = root / "TRITON_VERSION"  # NVIDIA's container writes it
    version = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else ""
    return ServerInstall(executable, kind, backend_dir if backend_dir.is_dir() else None, _backends(backend_dir),
                         version)


def _backends(directory: Path | None) -> tuple[str, ...]:
    if directory is None or not directory.is_dir():
        return ()
    return tuple(sorted(entry.name for entry in directory.iterdir() if entry.is_dir()))


def _full_server_on_path() -> Path | None:
    """`tritonserver` on PATH, but not the environment's own bin (where a wrapper of the wheel could sit)."""
    own = os.path.abspath(rt.env_bin_dir())
    search = os.pathsep.join(entry for entry in os.environ.get("PATH", "").split(os.pathsep)
                             if entry and os.path.abspath(entry) != own)
    found = shutil.which(DEFAULT_SERVER, path=search)
    return Path(found) if found else None


def find_server(configured: str, runtime: rt.Runtime, container_root: Path = CONTAINER_ROOT) -> ServerInstall:
    """The server a local run starts. For the default `triton_server_path`: a full server (on PATH outside the
    virtual environment, then NVIDIA's container path), then the bundled one; otherwise the one named."""
    if configured != DEFAULT_SERVER:
        return _installed(rt.resolve_executable(configured, "triton_server_path", "tritonserver"),
                          ServerKind.CONFIGURED)
    on_path = _full_server_on_path()
    if on_path is not None:
        return _installed(on_path, ServerKind.FULL)
    container = container_root / "bin" / DEFAULT_SERVER
    if container.is_file() and os.access(container, os.X_OK):
        return _installed(container, ServerKind.FULL)
    bundled = rt.bundled_server_root()
    if bundled is None:
        raise rt.RuntimeMissing(f"triton_server_path: no tritonserver found (not on PATH, not at {container}, "
                                f"not bundled); {rt.INSTALL_HINT}")
    return ServerInstall(bundled / "bin" / DEFAULT_SERVER, ServerKind.BUNDLED, runtime.backend_dir,
                         _backends(runtime.backend_dir), "")


def model_backend(config: Mapping[str, Any]) -> str:
    """The backend a model config asks for: its `backend`, else the one its `platform` names; "" when neither
    says (the server auto-completes it) or the core serves it (an ensemble)."""
    backend = str(config.get("backend") or "")
    if backend:
        return backend
    platform = str(config.get("platform") or "")
    return "" if platform in BUILT_IN else PLATFORM_BACKENDS.get(platform, platform)


class BackendMissing(PluginError):
    """A profiled model needs a backend the server to be started does not have."""


def check_backends(models: Sequence[tuple[str, str, Mapping[str, Any]]], install: ServerInstall) -> None:
    """(key, model, config) of every model a run loads: each one's backend is one the server has. Only where the
    install lists its backends (a server whose backend directory is its own default is not second-guessed)."""
    if install.backend_dir is None:
        return
    for key, name, config in models:
        backend = model_backend(config)
        if backend and backend not in install.backends:
            raise BackendMissing(f"{key}: `{name}` needs the {backend} backend, which {install.describe()} lacks: "
                                 f"{WAYS_OUT}")
