"""The Triton server the measurements run against: started here (local), already running (remote), or loaded
by each perf_analyzer into its own process (c_api)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_model_analyzer.domain.errors import PluginError
from pytest_model_analyzer.infra.leftovers import (
    remove_left_directories,
    remove_orphaned_shm_regions,
    remove_shm_regions,
    shm_prefix,
)
from pytest_model_analyzer.infra.procs import child_setup, kill_group, last_lines
from pytest_model_analyzer.infra.runtime import Runtime


class ServerError(PluginError):
    """The server could not be started or reached; the message carries the server's own words."""


@dataclass(frozen=True)
class Endpoints:
    http: str  # host:port
    grpc: str  # host:port
    metrics_url: str

    def for_protocol(self, protocol: str) -> str:
        return self.grpc if protocol == "grpc" else self.http

    def target(self, model: str, protocol: str) -> Target:
        return Target(model, ("-u", self.for_protocol(protocol), "-i", protocol))


@dataclass(frozen=True)
class Target:
    """Where one perf_analyzer run sends its requests: the model name it asks for, the arguments that reach
    the server, and what its environment needs besides the runtime's."""

    model: str
    arguments: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)


def free_ports(count: int, host: str = "127.0.0.1") -> tuple[int, ...]:
    """`count` distinct free ports. Every socket stays bound until all are picked: one at a time, the kernel may
    hand out a port it just released again (seen: HTTP and metrics both given 33379, and tritonserver refused
    to start, "cannot listen to HTTP requests and metrics requests at the same address and port")."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind((host, 0))
        return tuple(int(sock.getsockname()[1]) for sock in sockets)


def free_port(host: str = "127.0.0.1") -> int:
    return free_ports(1, host)[0]


def _get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, TimeoutError):
        return 0


def is_ready(http: str, timeout: float = 1.0) -> bool:
    return _get(f"http://{http}/v2/health/ready", timeout) == 200


def is_live(http: str, timeout: float = 1.0) -> bool:
    return _get(f"http://{http}/v2/health/live", timeout) == 200


def _tail(path: Path | None, lines: int = 6) -> str:
    if path is None or not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 8192))
        text = handle.read().decode("utf-8", "replace")
    return last_lines(text, lines)


WATCHDOG_INTERVAL_S = 0.2  # how soon a dead server's orphaned backend stubs are killed
LIVENESS_TIMEOUT_S = 2.0  # an idle server answers its liveness endpoint in a millisecond
_REMOTE_SILENT = f"stopped answering (no answer from v2/health/live within {LIVENESS_TIMEOUT_S:g} s)"
EXIT_GRACE_S = 3.0  # how long a server that stopped answering may take to finish dying (seen: seconds, on GPUs)


class LocalServer:
    """A `tritonserver` process of our own: loopback ports picked at start, explicit model control."""

    def __init__(
        self,
        executable: Path,
        model_repository: Path,
        runtime: Runtime,
        log_path: Path,
        flags: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        metrics_interval_ms: int = 1000,
        ready_timeout: float = 60.0,
        pinned_environment: Mapping[str, str] | None = None,
        extra_repositories: Sequence[Path] = (),
        cpus: frozenset[int] | None = None,
    ) -> None:
        self.executable = executable
        self.model_repository = model_repository
        # Served beside model_repository (an A/B run's baseline models, infra/baseline.py); names stay unique.
        self.extra_repositories = tuple(extra_repositories)
        self.runtime = runtime
        self.log_path = log_path
        self.flags = dict(flags or {})
        self.environment = dict(environment or {})
        self.pinned_environment = dict(pinned_environment or {})  # the worker's, e.g. its one GPU
        self.cpus = cpus  # the CPUs the server and its backend stubs may use (an A/B duet's one core); None: any
        self.metrics_interval_ms = metrics_interval_ms
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoints: Endpoints | None = None
        self._ports: tuple[int, int, int] | None = None
        self._watchdog_stop = threading.Event()
        self.shm_prefix = ""  # this start's, where the server was given one (`shm_prefix`)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def trouble(self) -> str:
        """"" for a server that runs and answers, else what is wrong with it. The process is not enough:
        killed while it holds a CUDA context, it takes seconds to exit (the driver tears the context down)
        with its ports already closed; a frozen one runs and never answers."""
        if not self.alive():
            return "died"
        if self.endpoints is not None and not is_live(self.endpoints.http, timeout=LIVENESS_TIMEOUT_S):
            return "died" if self._exits_within(EXIT_GRACE_S) else "stopped answering"
        return ""

    def _exits_within(self, seconds: float) -> bool:
        """Whether the process ends within `seconds` (polled, beside the watchdog; see `_watch`)."""
        deadline = time.monotonic() + seconds
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _command(self, http: int, grpc: int, metrics: int) -> list[str]:
        # exit-timeout-secs 0: when the server is stopped nothing is in flight, and a Python model's unload
        # never finished within Triton's grace period anyway ("Exit timeout expired. Exiting immediately" on
        # every stop with 1 s), so waiting for it cost each stop or restart a second and cleaned up nothing;
        # what the skipped finalize leaves is swept by stop() (infra/leftovers.py).
        flags = {
            "http-address": "127.0.0.1", "grpc-address": "127.0.0.1", "metrics-address": "127.0.0.1",
            "allow-gpu-metrics": "true", "allow-cpu-metrics": "true",
            "metrics-interval-ms": str(self.metrics_interval_ms), "exit-timeout-secs": "0",
            "strict-model-config": "false",
        }
        flags.update(self.flags)  # the config may choose other addresses or timeouts
        command = [
            str(self.executable), f"--model-repository={self.model_repository}",
            *(f"--model-repository={extra}" for extra in self.extra_repositories),
            "--model-control-mode=explicit", f"--http-port={http}", f"--grpc-port={grpc}",
            f"--metrics-port={metrics}",
        ]
        if self.runtime.backend_dir is not None:
            command.append(f"--backend-directory={self.runtime.backend_dir}")
        command += [f"--{name}={value}" for name, value in flags.items()]
        if self.shm_prefix:
            command.append(f"--backend-config=python,shm-region-prefix-name={self.shm_prefix}")
        return command

    def start(self) -> Endpoints:
        last_error = ""
        # Unless the config names a prefix of its own, each attempt's Python regions are ours to remove.
        own_regions = "shm-region-prefix-name" not in self.flags.get("backend-config", "")
        if own_regions:
            remove_orphaned_shm_regions()
        remove_left_directories()  # what killed runs and unfinished servers left in /tmp
        for _attempt in range(3):  # a picked port can be taken by someone else before the server binds it
            # A restart keeps the ports of the last start, so that clients and monitors stay valid.
            http, grpc, metrics = self._ports or free_ports(3)
            ports = (http, grpc, metrics)
            self._ports = None
            host = self.flags.get("http-address", "127.0.0.1")
            endpoints = Endpoints(
                http=f"{host}:{http}", grpc=f"{self.flags.get('grpc-address', '127.0.0.1')}:{grpc}",
                metrics_url=f"http://{self.flags.get('metrics-address', '127.0.0.1')}:{metrics}/metrics",
            )
            self.shm_prefix = shm_prefix() if own_regions else ""
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                log.write(f"\n=== pytest-model-analyzer: starting {self.executable}\n".encode())
                log.flush()
                self.process = subprocess.Popen(
                    self._command(*ports), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=self.runtime.child_env({**self.environment, **self.pinned_environment}),
                    start_new_session=True,
                    preexec_fn=child_setup(self.cpus),
                )
            self._watch(self.process, self.shm_prefix)
            deadline = time.monotonic() + self.ready_timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if is_ready(endpoints.http, timeout=0.5):
                    self.endpoints, self._ports = endpoints, ports
                    return endpoints
                time.sleep(0.1)
            last_error = _tail(self.log_path)
            self.stop()
            if "address already in use" not in last_error.lower():
                break
        raise ServerError(
            f"tritonserver did not become ready within {self.ready_timeout:g} s "
            f"(log: {self.log_path}):\n{last_error}"
        )

    def _watch(self, process: subprocess.Popen[bytes], shm: str) -> None:
        """Reap the server the moment it dies and kill what it leaves behind: its backend stubs, and the shared
        memory regions named with `shm`, this start's prefix.

        A Python backend stub outlives a killed server and keeps the server's accepted connections open, so
        perf_analyzer or a model load would wait on them until their own timeouts (10 minutes by default).
        Killing the orphaned group closes those connections: every client fails at once, and the next item
        finds a dead server to restart. Polling, not `wait()`: a blocked `wait()` holds Popen's lock and
        would make `poll()` (`alive()`) report a dead server as alive.
        """
        self._watchdog_stop = stop = threading.Event()

        def watch() -> None:
            while not stop.wait(WATCHDOG_INTERVAL_S):
                if process.poll() is not None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(process.pid, signal.SIGKILL)
                    if shm:
                        remove_shm_regions(shm)
                    remove_left_directories()
                    return

        threading.Thread(target=watch, name="tritonserver-watchdog", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is None:
            return
        self._watchdog_stop.set()
        kill_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process, signal.SIGKILL)
            process.wait()
        # The backend stubs live in the server's group; make sure none is left behind, nor their regions.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if self.shm_prefix:
            remove_shm_regions(self.shm_prefix)
        # Stopped within its exit timeout, the server skipped its Python backend's finalize, which removes the
        # backend's /tmp directory (infra/leftovers.py).
        remove_left_directories()
        self.process = None

    def restart(self) -> Endpoints:
        self.stop()
        return self.start()

    def log_tail(self) -> str:
        return _tail(self.log_path)

    def target(self, model: str, variant: str, protocol: str) -> Target:
        assert self.endpoints is not None, "the server is started before anything is measured"
        return self.endpoints.target(model, protocol)


class RemoteServer:
    """A server someone else runs: never started or stopped here."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.pid = None

    def start(self) -> Endpoints:
        if not is_live(self.endpoints.http, timeout=5.0):
            raise ServerError(
                f"the remote Triton server at http://{self.endpoints.http} does not answer "
                "(triton_http_endpoint); start it, or use triton_launch_mode: local"
            )
        return self.endpoints

    def alive(self) -> bool:
        return is_live(self.endpoints.http, timeout=LIVENESS_TIMEOUT_S)

    def trouble(self) -> str:
        """"" while the server answers its liveness endpoint: all that can be known of someone else's."""
        return "" if self.alive() else _REMOTE_SILENT

    def stop(self) -> None:
        """Someone else's server: left running."""

    def restart(self) -> Endpoints:
        # Called once trouble() found the server silent: no second probe (each costs up to LIVENESS_TIMEOUT_S).
        raise ServerError(f"the remote Triton server at {self.endpoints.http} {_REMOTE_SILENT}; a remote server "
                          "is not restarted, so its remaining points cannot be measured")

    def log_tail(self) -> str:
        return ""

    def target(self, model: str, variant: str, protocol: str) -> Target:
        return self.endpoints.target(model, protocol)


class InProcessServer:
    """`triton_launch_mode: c_api`: no server process. Each perf_analyzer run loads the Triton library from
    `directory` (`lib/libtritonserver.so`, `backends/`) into its own process, on the repository of variants the
    repository control writes (infra/model_control.py), and asks for the variant by its own name, as Model
    Analyzer's c_api mode does. There are no endpoints: no metrics to read, no model to load ahead."""

    def __init__(self, directory: Path, repository: Path, environment: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.repository = repository
        self.environment = dict(environment or {})  # e.g. an xdist worker's CUDA_VISIBLE_DEVICES
        self.endpoints: Endpoints | None = None
        self.pid = None

    def start(self) -> None:
        self.repository.mkdir(parents=True, exist_ok=True)

    def trouble(self) -> str:
        """Nothing runs between measurements: a failed load or run is perf_analyzer's own error."""
        return ""

    def stop(self) -> None:
        """Nothing to stop: the server ended with its perf_analyzer."""

    def restart(self) -> None:
        """Never needed (trouble() is always empty)."""

    def log_tail(self) -> str:
        return ""

    def target(self, model: str, variant: str, protocol: str) -> Target:
        return Target(variant, ("--service-kind=triton_c_api", f"--triton-server-directory={self.directory}",
                                f"--model-repository={self.repository}"), self.environment)
