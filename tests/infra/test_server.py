"""The local server: its ports, and what it leaves behind once stopped, killed, or orphaned by a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_model_analyzer.infra.leftovers import SHM_DIRECTORY, shm_prefix
from pytest_model_analyzer.infra.model_control import ModelControl
from pytest_model_analyzer.infra.server import LocalServer, free_ports
from tests.support import example_server

needs_shm = pytest.mark.skipif(not SHM_DIRECTORY.is_dir(), reason="no /dev/shm on this machine")
real_server = pytest.mark.e2e  # these start the bundled tritonserver: `-m "not e2e"` leaves them out


def test_the_ports_a_server_is_given_are_always_distinct() -> None:
    """Picked one at a time, the kernel may hand out a just-released port again: a server was once given the same
    port for HTTP and metrics and refused to start. All sockets stay bound until every port is picked."""
    for _ in range(300):
        ports = free_ports(3)
        assert len(set(ports)) == 3 and all(0 < port < 65536 for port in ports)


def regions(prefix: str) -> list[str]:
    return sorted(path.name for path in SHM_DIRECTORY.glob(f"{prefix}*"))


def serving_a_python_model(tmp_path: Path) -> LocalServer:
    """A real server with the Python model `add` loaded: the backend has created its shared-memory region."""
    server = example_server(tmp_path / "log")
    endpoints = server.start()
    control = ModelControl(endpoints.grpc)
    try:
        control.client.load_model("add")
    finally:
        control.close()
    assert regions(server.shm_prefix), "the Python backend made no region under the server's prefix"
    return server


@real_server
@needs_shm
def test_a_stopped_server_leaves_no_shared_memory_behind(tmp_path: Path) -> None:
    """Triton's exit does not wait for a Python model to unload (`exit-timeout-secs`), so without this its
    region stayed in /dev/shm for good, one per run."""
    server = serving_a_python_model(tmp_path)
    prefix = server.shm_prefix
    server.stop()
    assert regions(prefix) == []


@real_server
@needs_shm
def test_a_killed_servers_shared_memory_goes_with_it(tmp_path: Path) -> None:
    server = serving_a_python_model(tmp_path)
    prefix = server.shm_prefix
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while regions(prefix) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert regions(prefix) == [], "the watchdog left the dead server's regions"
    server.stop()


@real_server
@needs_shm
def test_a_killed_runs_regions_are_removed_when_the_next_server_starts(tmp_path: Path) -> None:
    """A run killed outright (SIGKILL) takes its servers with it before any cleanup; the regions named for a
    process that no longer runs are removed at the next start on this host, and no one else's."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    orphaned = SHM_DIRECTORY / (shm_prefix().replace(f"_{os.getpid()}_", f"_{dead.stdout.strip()}_") + "region")
    ours = SHM_DIRECTORY / (shm_prefix() + "region")
    foreign = SHM_DIRECTORY / "triton_python_backend_shm_region_pma_test"
    for path in (orphaned, ours, foreign):
        path.write_bytes(b"\0" * 16)
    server = example_server(tmp_path / "log")
    try:
        server.start()
        assert not orphaned.exists()
        assert ours.exists() and foreign.exists(), "a running process's or another tool's region was removed"
    finally:
        server.stop()
        for path in (orphaned, ours, foreign):
            path.unlink(missing_ok=True)
