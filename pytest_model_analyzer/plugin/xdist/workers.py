"""pytest-xdist: one server and one GPU (or one remote endpoint) per worker, one checkpoint per run.

The controller collects nothing and runs no fixture; each worker is a full pytest session with its own
session fixtures, so its own server. The controller gives each worker a slot (a GPU, or an endpoint of
`triton_grpc_endpoints`) from a pool of free slots: xdist replaces a crashed worker under a new id, so
the slot cannot come from the `gw<N>` name. Measurements reach the controller in the workers' reports; the
controller alone writes the checkpoint. A Ctrl-C seen only by the controller reaches the workers through a
stop file named in their `workerinput` (xdist has no other channel towards running workers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from xdist.remote import Producer
    from xdist.scheduler.protocol import Scheduling
    from xdist.workermanage import WorkerController

    from pytest_model_analyzer.plugin.xdist.workload import Workload
    from pytest_model_analyzer.results.facts import RunFacts

SLOT = "ma_slot"
STOPFILE = "ma_stopfile"
WORKER_OUTPUT = "ma_worker"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def worker_slot(config: pytest.Config) -> int | None:
    return config.workerinput.get(SLOT) if is_worker(config) else None  # type: ignore[attr-defined]


def stop_requested(config: pytest.Config) -> bool:
    path = config.workerinput.get(STOPFILE) if is_worker(config) else None  # type: ignore[attr-defined]
    return path is not None and Path(path).exists()


def planned_workers(config: pytest.Config) -> int:
    """How many workers xdist will start (0 without distribution)."""
    if not config.pluginmanager.hasplugin("xdist") or is_worker(config):
        return 0
    if getattr(config.option, "dist", "no") == "no" and not getattr(config.option, "tx", None):
        return 0
    count = getattr(config.option, "numprocesses", None)
    return int(count) if isinstance(count, int) else len(getattr(config.option, "tx", None) or [])


class ControllerHooks:
    """Registered on the xdist controller only (xdist's hook names are unknown without xdist)."""

    def __init__(self, facts: RunFacts, slots: int, plan_workload: Callable[[], Workload], stopfile: Path) -> None:
        """`stopfile`: made when the run is to stop (plugin/interrupts.py's RunStop); the workers watch it."""
        self.facts = facts
        self.slots = slots
        self.plan_workload = plan_workload  # asked when xdist makes its scheduler, after checkpoints were read
        self.free = list(range(max(slots, 1)))
        self.taken: dict[str, int] = {}
        self.merged: set[str] = set()
        # Points whose worker died while measuring them -> the failure held back until they are measured again.
        self.crashed: dict[str, pytest.TestReport | None] = {}
        self.stopfile = stopfile

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Producer) -> Scheduling | None:
        """Units of work by expected cost (plugin/xdist/scheduler.py) where the run keeps variants together."""
        if config.getvalue("dist") != "loadscope":
            return None  # the user chose another distribution: xdist's own
        from pytest_model_analyzer.plugin.xdist.scheduler import CostScheduling

        return CostScheduling(config, log, self.plan_workload(), note=self.facts.note)

    @pytest.hookimpl
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Scheduling) -> None:
        """A worker died while measuring `crashitem`. The scheduler has put the point back in the queue, so a
        live worker measures it again and that run reports it: one result per point (xdist would report it
        FAILED and then PASSED, 16 results for 15 points). The crash report is held back (counted as a
        "rerun"); if no worker is left to measure the point, it is reported FAILED at the end after all.
        A point that kills a second worker stays FAILED and is not tried again."""
        from pytest_model_analyzer.plugin.xdist.scheduler import CostScheduling

        if not isinstance(sched, CostScheduling):
            return
        if crashitem in self.crashed:
            sched.drop(crashitem)
            return
        held = pytest.TestReport(nodeid=report.nodeid, location=report.location, keywords={}, outcome="failed",
                                 longrepr=report.longrepr, when="call")
        self.crashed[crashitem] = held
        report.outcome = "rerun"  # type: ignore[assignment]  # pytest-rerunfailures' word; counted apart

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" and self.crashed.get(report.nodeid) is not None:
            self.crashed[report.nodeid] = None  # measured again on a live worker
            self.facts.note(f"a worker died while measuring {report.nodeid.split('::', 1)[-1]}; it was measured "
                            "again on another worker")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Crashed points that no worker measured again: their failure is reported after all."""
        for nodeid, held in self.crashed.items():
            if held is not None:
                self.facts.note(f"a worker died while measuring {nodeid.split('::', 1)[-1]}; no worker was left "
                                "to measure it again")
                session.config.hook.pytest_runtest_logreport(report=held)

    @pytest.hookimpl
    def pytest_configure_node(self, node: WorkerController) -> None:
        slot = self.free.pop(0) if self.free else len(self.taken)
        self.taken[node.gateway.id] = slot
        node.workerinput[SLOT] = slot
        node.workerinput[STOPFILE] = str(self.stopfile)

    @pytest.hookimpl
    def pytest_testnodedown(self, node: WorkerController, error: object) -> None:
        """Can fire twice for one worker: merge once, free the slot once."""
        worker = node.gateway.id
        slot = self.taken.pop(worker, None)
        if slot is not None and slot < self.slots:
            self.free.append(slot)
            self.free.sort()
        output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if output and worker not in self.merged:
            self.merged.add(worker)
            self.facts.merge_worker_output(output)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        try:
            self.stopfile.unlink(missing_ok=True)
            os.rmdir(self.stopfile.parent)
        except OSError:
            pass
