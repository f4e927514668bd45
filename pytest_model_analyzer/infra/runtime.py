"""Finds the Triton server, perf_analyzer and the libraries they need, without root.

The bundled stack comes from two wheels (the README's install): `nvidia-pytriton` ships `tritonserver`, the Python
backend and, in `nvidia_pytriton.libs`, the `libb64` and `libcudart` that perf_analyzer needs even on CPU;
`tritonclient[all]==2.51.0` ships `perf_analyzer` into the environment's `bin`. Nothing here mutates an
installed package: the links live in a directory of the plugin's own inside the environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pytest_model_analyzer.domain.errors import PluginError

# What a user of any project does when the stack is missing; this repository's own set-up does the first.
INSTALL_HINT = ("install the plugin with its `runtime` extra, `pip install \"<a clone's path, its git URL or its "
                "wheel>[runtime]\"` (the bundled tritonserver and perf_analyzer; in the plugin's own repository `bash "
                "scripts/setup.sh`), or set triton_server_path and perf_analyzer_path to your own, or measure a "
                "running server with triton_launch_mode: remote")


class RuntimeMissing(PluginError):
    """A binary or library of the stack is not installed; the message says how to get it."""


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_server_root() -> Path | None:
    """`site-packages/pytriton/tritonserver`, when nvidia-pytriton is installed."""
    pkg = _package_dir("pytriton")
    if pkg is None:
        return None
    root = pkg / "tritonserver"
    return root if (root / "bin" / "tritonserver").exists() else None


def _bundled_libs_dir() -> Path | None:
    pkg = _package_dir("pytriton")
    if pkg is None:
        return None
    libs = pkg.parent / "nvidia_pytriton.libs"
    return libs if libs.is_dir() else None


def env_bin_dir() -> Path:
    """The `bin` of the running environment, where pip put perf_analyzer (also when it is not activated)."""
    return Path(sys.executable).parent


def runtime_dir() -> Path:
    """Where the plugin keeps its links: inside the environment, or a user cache when that is read-only."""
    preferred = Path(sys.prefix) / "var" / "pytest-model-analyzer"
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        if os.access(preferred, os.W_OK):
            return preferred
    except OSError:
        pass
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "pytest-model-analyzer" / f"py{sys.version_info[0]}{sys.version_info[1]}"


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    tmp = link.with_name(link.name + ".tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    tmp.replace(link)


@dataclass(frozen=True)
class Runtime:
    """The resolved stack: what to execute and with which environment."""

    lib_dir: Path | None = None
    backend_dir: Path | None = None
    extra_lib_dirs: tuple[Path, ...] = field(default_factory=tuple)
    # For triton_launch_mode: c_api, laid out as perf_analyzer's --triton-server-directory wants it:
    # lib/libtritonserver.so (the wheel's, renamed with a hash) and backends/.
    server_dir: Path | None = None

    def library_path(self) -> str:
        dirs = [str(d) for d in (self.lib_dir, *self.extra_lib_dirs) if d is not None]
        current = os.environ.get("LD_LIBRARY_PATH")
        return os.pathsep.join([*dirs, current] if current else dirs)

    def child_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for the server and perf_analyzer: the environment's bin first, our libraries found."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(env_bin_dir()), env.get("PATH", "")])
        env["LD_LIBRARY_PATH"] = self.library_path()
        if extra:
            env.update({k: str(v) for k, v in extra.items()})
        return env


def prepare() -> Runtime:
    """Create (idempotently) the links the bundled stack needs; returns the runtime to use."""
    libs = _bundled_libs_dir()
    server_root = bundled_server_root()
    if libs is None or server_root is None:
        return Runtime()
    base = runtime_dir()
    lib_dir = base / "lib"
    lib_dir.mkdir(parents=True, exist_ok=True)
    for pattern, plain in (("libb64-*.so.0d", "libb64.so.0d"), ("libcudart-*.so.12*", "libcudart.so.12")):
        found = sorted(libs.glob(pattern))
        if found:
            _link(found[0], lib_dir / plain)
    backend_dir = base / "backends"
    python_backend = backend_dir / "python"
    python_backend.mkdir(parents=True, exist_ok=True)
    for item in (server_root / "backends" / "python").iterdir():
        _link(item, python_backend / item.name)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    stub = server_root / "python_backend_stubs" / version / "triton_python_backend_stub"
    if stub.exists():
        # The Python backend looks for its stub beside itself; this one matches the running interpreter.
        _link(stub, python_backend / "triton_python_backend_stub")
    server_dir = None
    library = sorted(libs.glob("libtritonserver-*.so"))
    if library:
        server_dir = base / "c_api"
        (server_dir / "lib").mkdir(parents=True, exist_ok=True)
        _link(library[0], server_dir / "lib" / "libtritonserver.so")
        _link(backend_dir, server_dir / "backends")
    return Runtime(lib_dir=lib_dir, backend_dir=backend_dir, extra_lib_dirs=(libs,), server_dir=server_dir)


def resolve_server(configured: str) -> Path:
    """The bundled server for the default value when installed, else the one named (the tests' and benchmarks'
    choice; a run's own server is infra/installation.py's `find_server`, which prefers a full install)."""
    if configured == "tritonserver":
        root = bundled_server_root()
        if root is not None:
            return root / "bin" / "tritonserver"
    return resolve_executable(configured, "triton_server_path", "tritonserver")


DEFAULT_INSTALL_PATH = "/opt/tritonserver"  # Model Analyzer's default triton_install_path (its container's)


def resolve_server_directory(configured: str, runtime: Runtime) -> Path:
    """`triton_install_path` (c_api): a directory that holds `lib/libtritonserver.so`. For the default, NVIDIA's
    container path when it holds one (a full server comes first, as for a local server), else the bundled
    library."""
    path = Path(configured)
    if configured == DEFAULT_INSTALL_PATH and not (path / "lib" / "libtritonserver.so").is_file() \
            and runtime.server_dir is not None:
        return runtime.server_dir
    if (path / "lib" / "libtritonserver.so").is_file():
        return path
    raise RuntimeMissing(f"triton_install_path: no lib/libtritonserver.so under {configured}; {INSTALL_HINT}")


def resolve_perf_analyzer(configured: str) -> Path:
    return resolve_executable(configured, "perf_analyzer_path", "perf_analyzer")


def resolve_executable(configured: str, key: str, what: str) -> Path:
    if os.sep in configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise RuntimeMissing(f"{key}: {what} not found or not executable at {configured}; {INSTALL_HINT}")
    search = os.pathsep.join([str(env_bin_dir()), os.environ.get("PATH", "")])
    found = shutil.which(configured, path=search)
    if found is None:
        raise RuntimeMissing(f"{key}: `{configured}` ({what}) is not on PATH; {INSTALL_HINT}")
    return Path(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="create the library and backend links")
    args = parser.parse_args(argv)
    runtime = prepare() if args.prepare else Runtime()
    for name, resolve in (("tritonserver", resolve_server), ("perf_analyzer", resolve_perf_analyzer)):
        try:
            print(f"{name}: {resolve(name)}")
        except RuntimeMissing as exc:
            print(f"{name}: missing ({exc})")
    print(f"backends: {runtime.backend_dir}")
    print(f"c_api server directory: {runtime.server_dir}")
    print(f"libraries: {runtime.library_path()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
