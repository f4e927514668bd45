"""How the measurer's server is judged: a remote one that stops answering is an error, never counted as restarted;
a local one that stopped answering is dead once its process ends, however slowly, and frozen otherwise."""

from __future__ import annotations

import subprocess
import sys
import time
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
    point = SimpleNamespace(model=SimpleNamespace(triton_server_flags={}, triton_server_environment={}, members=()))
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


def test_c_api_writes_each_variant_once_as_a_model_directory_named_as_the_variant(tmp_path: Path) -> None:
    """`triton_launch_mode: c_api`: perf_analyzer loads each variant by its name from a repository of the run's
    own, with the model's files linked from the source repository, and reaches no endpoint."""
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    from pytest_model_analyzer.config.model_config import read_model_config
    from pytest_model_analyzer.config.variants import Variant
    from pytest_model_analyzer.infra.model_control import RepositoryControl
    from pytest_model_analyzer.infra.server import InProcessServer
    from tests.support import MODELS

    repository = tmp_path / "repo"
    control = RepositoryControl(MODELS, repository, {"sleep": read_model_config(MODELS, "sleep")})
    variant = Variant("sleep_config_3", {"instance_group": [{"count": 3, "kind": "KIND_CPU"}], "max_batch_size": 2})
    effective = control.ensure("sleep", variant)
    written = text_format.Parse((repository / "sleep_config_3" / "config.pbtxt").read_text(),
                                model_config_pb2.ModelConfig())
    assert written.name == "sleep_config_3" and written.max_batch_size == 2 and written.instance_group[0].count == 3
    assert written.parameters["sleep_ms"].string_value == "20"  # the rest of the repository's config
    assert (repository / "sleep_config_3" / "1" / "model.py").resolve() == (MODELS / "sleep" / "1" / "model.py")
    assert effective["name"] == "sleep_config_3" and effective["max_batch_size"] == 2
    (repository / "sleep_config_3" / "config.pbtxt").write_text("edited")
    assert control.ensure("sleep", variant) is effective  # written once
    assert (repository / "sleep_config_3" / "config.pbtxt").read_text() == "edited"

    server = InProcessServer(tmp_path / "triton", repository, {"CUDA_VISIBLE_DEVICES": "GPU-1"})
    target = server.target("sleep", "sleep_config_3", "grpc")
    assert target.model == "sleep_config_3" and "-u" not in target.arguments
    assert target.arguments == ("--service-kind=triton_c_api", f"--triton-server-directory={tmp_path / 'triton'}",
                                f"--model-repository={repository}")
    assert target.environment == {"CUDA_VISIBLE_DEVICES": "GPU-1"} and server.trouble() == ""


def test_the_bundled_triton_library_serves_c_api_unless_another_install_is_named(tmp_path: Path) -> None:
    from pytest_model_analyzer.infra.runtime import RuntimeMissing, prepare, resolve_server_directory

    runtime = prepare()
    bundled = resolve_server_directory("/opt/tritonserver", runtime)
    assert (bundled / "lib" / "libtritonserver.so").resolve().name.startswith("libtritonserver-")
    assert (bundled / "backends" / "python" / "libtriton_python.so").exists()
    own = tmp_path / "triton"
    (own / "lib").mkdir(parents=True)
    (own / "lib" / "libtritonserver.so").write_text("")
    assert resolve_server_directory(str(own), runtime) == own
    with pytest.raises(RuntimeMissing, match=r"triton_install_path: no lib/libtritonserver\.so under /nonexistent"):
        resolve_server_directory("/nonexistent", runtime)


def test_c_api_under_xdist_gives_each_worker_s_perf_analyzer_its_own_gpu(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """In c_api mode the server lives inside perf_analyzer, on this machine's GPUs, as a local server does: a
    worker's perf_analyzer sees only the GPU of its slot (NVML itself is faked: no GPU here)."""
    from pytest_model_analyzer.config.builder import build_profile
    from pytest_model_analyzer.infra import stack
    from pytest_model_analyzer.infra.monitor import GpuInfo
    from pytest_model_analyzer.infra.runtime import prepare
    from tests.support import MODELS

    profile = build_profile({"model_repository": str(MODELS), "profile_models": "add", "triton_launch_mode": "c_api",
                             "run_config_search_disable": True}, cwd=tmp_path, gpus_available=True)
    assert profile.gpu_bound
    monkeypatch.setattr(stack, "gpu_inventory", lambda selected: [GpuInfo("GPU-a", 0, "x"), GpuInfo("GPU-b", 1, "x")])
    server, _ = stack.open_server(profile, prepare(), tmp_path, slot=1)
    assert server.target("add", "add_config_default", "grpc").environment == {"CUDA_VISIBLE_DEVICES": "GPU-b"}
    unpinned, _ = stack.open_server(profile, prepare(), tmp_path, slot=None)
    assert dict(unpinned.target("add", "add_config_default", "grpc").environment) == {}


class SlowLoad:
    """A model control whose load takes `seconds`, as a server that is slow to load a variant would."""

    deadline: float | None = None

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def ensure(self, *args: object, **kwargs: object) -> dict[str, object]:
        time.sleep(self.seconds)
        return {}


def test_a_measurement_ends_within_its_timeout_whatever_the_load_took(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """perf_analyzer_timeout bounds the whole measurement: what the load took, perf_analyzer does not get again
    (before, a load and perf_analyzer each had the full timeout, and a point could take twice as long)."""
    from pytest_model_analyzer.infra.monitor import ResourceMonitor
    from tests.infra.test_perf_analyzer import fake

    server = RemoteServer(Endpoints("127.0.0.1:9", "127.0.0.1:9", ""))
    monkeypatch.setattr(server, "alive", lambda: True)
    hanging = fake(tmp_path, "sleep 30\n")
    measurer = Measurer(server=server, control=SlowLoad(1.0), runtime=Runtime(),  # type: ignore[arg-type]
                        perf_analyzer=hanging, monitor=ResourceMonitor(interval=1.0), workdir=tmp_path / "w",
                        timeout=2.0)
    model = SimpleNamespace(name="add", triton_server_flags={}, triton_server_environment={}, members=(),
                            export_requests=True, slo={}, llm=None)
    point = SimpleNamespace(model=model, variant=SimpleNamespace(name="add_config_default"), batch_size=1,
                            load_kind="concurrency", load=1, perf_analyzer_flags={})
    started = time.monotonic()
    with pytest.raises(MeasurementError, match=r"timed out after 2 s \(perf_analyzer_timeout\)"):
        measurer.measure(point)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2.0 + 0.5
    # A load that takes it all: perf_analyzer is not started at all.
    measurer.control = SlowLoad(2.1)  # type: ignore[assignment]
    with pytest.raises(MeasurementError, match=r"perf_analyzer_timeout \(2 s\) ran out while its model loaded"):
        measurer.measure(point)  # type: ignore[arg-type]


def test_model_control_calls_share_the_measurements_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_model_analyzer.infra.model_control import ModelControl, VariantLoadError

    asked: list[float] = []

    class Client:
        def get_model_config(self, model: str, client_timeout: float, **kwargs: object) -> dict[str, object]:
            asked.append(client_timeout)
            return {"config": {}}

    monkeypatch.setattr(ModelControl, "_connect", staticmethod(lambda url: Client()))
    control = ModelControl("127.0.0.1:9", timeout=600.0)
    control.config("add")
    control.config("add", deadline=time.monotonic() + 5.0)
    assert asked[0] == 600.0 and 4.0 < asked[1] <= 5.0
    with pytest.raises(VariantLoadError, match=r"perf_analyzer_timeout \(600 s\) ran out before get_model_config add"):
        control.config("add", deadline=time.monotonic() - 0.1)
    assert len(asked) == 2
