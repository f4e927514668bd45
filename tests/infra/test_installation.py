"""Which server a local run starts: a full install before the bundled one, and a model whose backend it lacks
refused with one line that names the ways out."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.installation import (
    BackendMissing,
    ServerKind,
    check_backends,
    find_server,
    model_backend,
)


def container_layout(root: Path) -> Path:
    """A directory laid out like NVIDIA's container's /opt/tritonserver, its binary the bundled one."""
    bundled = runtime.bundled_server_root()
    assert bundled is not None, "the runtime extra is part of the test environment"
    prepared = runtime.prepare()
    assert prepared.backend_dir is not None
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tritonserver").symlink_to(bundled / "bin" / "tritonserver")
    (root / "backends").mkdir()
    (root / "backends" / "python").symlink_to(prepared.backend_dir / "python")
    (root / "TRITON_VERSION").write_text("2.51.0\n")
    return root


def test_a_full_server_on_path_comes_before_the_bundled_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full = container_layout(tmp_path / "opt" / "tritonserver")
    monkeypatch.setenv("PATH", f"{full / 'bin'}:/usr/bin:/bin")
    install = find_server("tritonserver", runtime.prepare(), container_root=tmp_path / "none")
    assert (install.kind, install.executable, install.backends, install.version) == (
        ServerKind.FULL, full / "bin" / "tritonserver", ("python",), "2.51.0")
    assert install.backend_dir == full / "backends"  # its own backends, not the bundled links
    assert install.describe() == f"tritonserver 2.51.0 (full install at {full}; backends: python)"


def test_the_container_path_then_the_bundled_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    full = container_layout(tmp_path / "opt" / "tritonserver")
    assert find_server("tritonserver", runtime.prepare(), container_root=full).kind is ServerKind.FULL
    bundled = find_server("tritonserver", runtime.prepare(), container_root=tmp_path / "none")
    assert bundled.kind is ServerKind.BUNDLED and bundled.backends == ("python",)
    assert bundled.describe().startswith("tritonserver (bundled with nvidia-pytriton ")
    named = find_server(str(full / "bin" / "tritonserver"), runtime.prepare(), container_root=tmp_path / "none")
    assert named.kind is ServerKind.CONFIGURED and named.backends == ("python",)


def test_a_model_is_served_by_its_backend_or_its_platforms() -> None:
    assert model_backend({"backend": "python"}) == "python"
    assert model_backend({"platform": "onnxruntime_onnx"}) == "onnxruntime"
    assert model_backend({"platform": "tensorrt_plan"}) == "tensorrt"
    assert model_backend({"platform": "pytorch_libtorch"}) == "pytorch"
    assert model_backend({"platform": "ensemble"}) == ""  # the core serves it
    assert model_backend({}) == ""  # auto-completed by the server: not second-guessed


def test_a_model_whose_backend_the_server_lacks_is_one_line_with_the_ways_out(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    install = find_server("tritonserver", runtime.prepare(), container_root=tmp_path / "none")
    check_backends([("profile_models.add", "add", {"backend": "python"})], install)
    with pytest.raises(BackendMissing) as error:
        check_backends([("profile_models.add", "add", {"backend": "python"}),
                        ("profile_models.resnet", "resnet", {"platform": "onnxruntime_onnx"})], install)
    message = str(error.value)
    assert message.startswith("profile_models.resnet: `resnet` needs the onnxruntime backend, which tritonserver "
                              "(bundled with nvidia-pytriton")
    assert "backends: python) lacks: run in NVIDIA's Triton container" in message and "\n" not in message
    assert "triton_server_path" in message and "triton_launch_mode: remote" in message
