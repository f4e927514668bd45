"""A remote server that stops answering is an error, never counted as restarted (remote servers are not)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_model_analyzer.domain.errors import MeasurementError
from pytest_model_analyzer.infra.measurer import Measurer
from pytest_model_analyzer.infra.server import Endpoints, RemoteServer


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
