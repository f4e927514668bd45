"""End-to-end helpers: run pytest with a profile in a subprocess and read back what each item measured."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_model_analyzer.infra.leftovers import (
    PYTHON_ENV_PATTERN,
    TEMP_PREFIX,
    left_python_envs,
    orphaned_shm_regions,
    orphaned_temp_dirs,
)
from tests.support import MODELS, TEST_MARKER, processes_of_this_test

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks this folder's tests `e2e` (a `pytestmark` in a conftest.py is ignored by pytest): `-m "not e2e"`
    runs the suite without the real server."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def settled(find: Callable[[], Collection[Any]], seconds: float = 10.0) -> Collection[Any]:
    """What `find` still reports once the cleanup in flight has had `seconds` to end. A run's servers and their
    Python backend stubs finish dying, and remove their regions and directories, a moment after the run itself
    ended; with two tests side by side (pytest -n 2) one test's check can fall in that moment of the other's.
    What a run really left behind is still there after it."""
    deadline = time.monotonic() + seconds
    left = find()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = find()
    return left


@pytest.fixture(autouse=True)
def _no_process_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test's runs went through, every process they started has ended by the time the test ends.
    Each test marks its processes with a value of its own (support.TEST_MARKER, inherited by every child), so
    what another test running beside it (pytest -n 2) starts is not counted. A process gets a few seconds to
    finish dying (a killed run's server ends on its parent-death signal)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEST_MARKER, f"{os.getpid()}-{uuid.uuid4().hex}")
        yield
        left = settled(processes_of_this_test)
        assert not left, f"processes {request.node.name} left running: {left}"


@pytest.fixture(autouse=True)
def _no_shared_memory_left_behind() -> Iterator[None]:
    """Whatever a test's runs went through (a crash, a killed worker, Ctrl-C), the servers they started have
    taken their Python backend regions with them by the time the test ends (infra/server.py::shm_prefix)."""
    yield
    left = settled(orphaned_shm_regions)
    assert not left, f"/dev/shm regions of servers whose run has ended: {[path.name for path in left]}"


@pytest.fixture(scope="session", autouse=True)
def _tmp_left_as_found() -> Iterator[None]:
    """The end-to-end tests leave /tmp as they found it: the runs they start, stopped, killed or crashed, and
    their servers leave none of their directories behind (infra/leftovers.py). Counted: what appeared during the
    session that no running process owns any more (another suite running beside this one keeps its own)."""
    tmp = Path(tempfile.gettempdir())

    def ours() -> set[Path]:
        return {*tmp.glob(PYTHON_ENV_PATTERN), *tmp.glob(f"{TEMP_PREFIX}*")}

    before = ours()
    yield
    left = settled(lambda: (ours() - before) & {*left_python_envs(tmp), *orphaned_temp_dirs(tmp)})
    assert not left, f"left in {tmp} by the session's runs: {sorted(path.name for path in left)}"


@dataclass
class ItemResult:
    nodeid: str
    outcome: str  # passed, failed, error, skipped
    message: str = ""
    measurement: dict[str, Any] | None = None
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def variant(self) -> str:
        """junit writes the class name dotted: `profile.yaml.add.add_config_0`."""
        return self.nodeid.split("::")[0].rsplit(".", 1)[-1]


@dataclass
class ProfileRun:
    result: pytest.RunResult
    items: list[ItemResult]

    def by_name(self, fragment: str) -> list[ItemResult]:
        return [item for item in self.items if fragment in item.nodeid]

    @property
    def measured(self) -> list[dict[str, Any]]:
        return [item.measurement for item in self.items if item.measurement]


def read_junit(path: Path) -> list[ItemResult]:
    items = []
    for case in ET.parse(path).getroot().iter("testcase"):
        nodeid = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                message = (element.get("message") or "") + "\n" + (element.text or "")
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        raw = properties.get("ma_measurement")
        items.append(ItemResult(nodeid, outcome, message, json.loads(raw) if raw else None, properties))
    return items


def without_auto_complete(body: str) -> str:
    """The profile with its local server's config auto-complete off, unless the profile sets server flags or
    uses no local server. With it on (Triton's default), every load of a Python model first runs an
    auto-complete stub, whose exit costs 1.25 s: a load takes 1.33 s instead of 0.08 s. The models here have
    complete configs, so nothing else changes; `auto_complete=True`, the example suites and the benchmarks
    keep Triton's default."""
    try:
        settings = yaml.safe_load(body)
    except yaml.YAMLError:
        return body  # a test of a broken profile
    if (not isinstance(settings, dict) or "triton_server_flags" in settings
            or settings.get("triton_launch_mode", "local") != "local"):
        return body
    return body + "\ntriton_server_flags: {strict-model-config: true}\n"


@pytest.fixture
def run_profile(pytester: pytest.Pytester, write_profile):
    """Write the profile, run it in a subprocess (real server, real perf_analyzer), parse junit XML."""

    def run(body: str, *args: str, timeout: float = 300, auto_complete: bool = False) -> ProfileRun:
        path = write_profile(body if auto_complete else without_auto_complete(body))
        junit = pytester.path / "junit.xml"
        result = pytester.runpytest_subprocess("--ma-config", str(path), "-p", "no:cacheprovider",
                                               f"--junitxml={junit}", "-rA", *args, timeout=timeout)
        return ProfileRun(result, read_junit(junit) if junit.exists() else [])

    return run


@pytest.fixture
def model_repo(tmp_path: Path):
    """A private model repository with the chosen example models (and test-only ones)."""

    def make(*names: str) -> Path:
        repo = tmp_path / "models"
        for name in names:
            source = MODELS / name if (MODELS / name).exists() else Path(__file__).parent / "models" / name
            shutil.copytree(source, repo / name)
        return repo

    return make
