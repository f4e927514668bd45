"""Constants the repository's tests share: the example model repository and fast perf_analyzer windows."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.monitor import gpu_inventory
from pytest_model_analyzer.infra.server import LocalServer

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"
# Fast perf_analyzer windows for the end-to-end tests (see ../shared/STACK.md: 0.3-3% run-to-run variation).
FAST_FLAGS = {"measurement-mode": "time_windows", "measurement-interval": 200, "stability-percentage": 20}
FAST_FLAGS_YAML = "perf_analyzer_flags: {" + ", ".join(f"{k}: {v}" for k, v in FAST_FLAGS.items()) + "}\n"


def example_server(log_path: Path) -> LocalServer:
    """The bundled tritonserver on the example repository, not yet started: for tests that drive a server
    themselves (model control, remote mode, what a server leaves behind)."""
    return LocalServer(runtime.resolve_server("tritonserver"), MODELS, runtime.prepare(), log_path)


# The end-to-end tests run on CPU hosts (CI) and GPU hosts alike; where they differ, they ask this.
HAS_GPU = bool(gpu_inventory())


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def open_in_chromium(page: Path, workdir: Path) -> tuple[str, Path, Path]:
    """(the DOM after load, a screenshot of the page, a screenshot of an empty page) from real headless Chromium;
    skips where Chromium is missing, unless MA_REQUIRE_BROWSER says it must be there."""
    import pytest

    browser = chromium()
    if browser is None:
        if os.environ.get("MA_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (MA_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("chromium is not installed (.ci/run installs Debian's package)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={workdir / 'chromium-profile'}", "--window-size=1280,1600"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    shot, blank, blank_shot = workdir / f"{page.stem}.png", workdir / "blank.html", workdir / "blank.png"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    for source, target in ((page, shot), (blank, blank_shot)):
        subprocess.run([*flags, f"--screenshot={target}", source.as_uri()], capture_output=True, timeout=120,
                       check=True)
    return dom, shot, blank_shot


# Every process an end-to-end test starts carries this variable, set to the test's own value (tests/e2e/conftest.py):
# what a test left running is found by it, not by its name, so tests can run side by side (pytest -n 2).
TEST_MARKER = "MA_E2E_TEST"


def processes_of_this_test() -> list[str]:
    """`pid command` of every live process started under this test's marker (none when no marker is set)."""
    marker = os.environ.get(TEST_MARKER)
    if not marker:
        return []
    needle = f"{TEST_MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                continue  # a zombie: ended, waiting for its parent to read its status
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # ended meanwhile, or not ours to read
        found.append(f"{entry.name} {command}")
    return found
