"""How the measurer's server is judged: a remote one that stops answering is an error, never counted as restarted;
a local one that stopped answering is dead once its process ends, however slowly, and frozen otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.infra.measurer import Measurer
from pytest_model_analyzer.infra.runtime import Runtime
from pytest_model_analyzer.infra.server import Endpoints, LocalServer, RemoteServer, free_port


def test_a_remote_server_that_stopped_answering_is_not_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    server = RemoteServer(Endpoints("127.0.0.1:9", "127.0.0.1:9", ""))
    monkeypatch.setattr(server, "alive", lambda: False)
    restarts: list[str] = []
    measurer = Measurer(server=server, control=SimpleNamespace(), runtime=SimpleNamespace(),  # type: ignore[arg-type]
                        perf_analyzer=Path("perf_analyzer"), monitor=SimpleNamespace(),  # type: ignore[arg-type]
                        workdir=Path("."), on_restart=restarts.append)
    point = SimpleNamespace(model=SimpleNamespace(triton_server_flags={}, triton_server_environment={}))
    with pytest.raises(MeasurementError, match=r"the remote Triton server at 127\.0\.0\.1:9 stopped answering"):
        measurer.measure(point)  # type: ignore[arg-type]
    assert restarts == []


@pytest.mark.parametrize(("lives_for", "trouble"), [(0.5, "died"), (60, "stopped answering")])
def test_a_local_server_that_stopped_answering_is_dead_once_its_process_ends(
        tmp_path: Path, lives_for: float, trouble: str) -> None:
    """Seen on a GPU host: a killed server's process lingers for seconds (the driver tears down its CUDA
    context) after its ports closed. It is reported as dead, not as frozen; a process that stays is frozen."""
    server = LocalServer(executable=Path(sys.executable), model_repository=tmp_path, runtime=Runtime(),
                         log_path=tmp_path / "log")
    port = free_port()  # nothing listens there: the server's ports are closed
    server.endpoints = Endpoints(f"127.0.0.1:{port}", f"127.0.0.1:{port}", "")
    server.process = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({lives_for})"])
    try:
        assert server.trouble() == trouble
    finally:
        server.process.kill()
        server.process.wait()
