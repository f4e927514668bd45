"""The xdist scheduler: whole units of work (plugin/xdist/workload.py), the dearest first, to whichever worker is free.

xdist's `loadscope` keeps a variant on one worker but knows nothing of costs: it hands out variants in
collection order and commits a worker's next one while two of its tests are still to run, so at the end one
worker runs a long variant while the others idle, and twin variants (identical configs) land on different
workers, each measuring what one measurement would serve. This scheduler, made through xdist's
`pytest_xdist_make_scheduler` hook, changes four things and leaves the rest to `LoadScopeScheduling`:
- the scope of a point is its unit, a family of variants that Triton switches between without reloading
  the model, so a family loads once and twins (identical configs) share a worker, whose ledger reuses the
  one measurement;
- a free worker gets the unit with the largest expected cost (longest-processing-time first);
- a worker is given its next unit when one test is left, not two: it still never waits (a worker runs its
  last test once it knows the next one), and the last units are committed as late as possible;
- when no unit is left, a worker about to go idle takes the later half of the points still queued on the
  busiest worker (xdist's `steal` command), if that pays for loading the model once more; never points of
  a search that decides online, whose early exits need a variant's points in order on one worker.
Tests that are not profile points keep loadscope's scopes and cost one unit per test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pytest
from xdist.scheduler import LoadScopeScheduling

from pytest_model_analyzer.plugin.xdist.workload import LOAD_S, Workload

if TYPE_CHECKING:
    from xdist.remote import Producer
    from xdist.workermanage import WorkerController


class CostScheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no type information
    collection: list[str] | None  # LoadScopeScheduling's: the collection once every worker reported it

    def __init__(self, config: pytest.Config, log: Producer | None, workload: Workload,
                 note: Callable[[str], None] = lambda text: None) -> None:
        super().__init__(config, log)
        self.workload = workload
        self.note = note  # told of each split, which the run's summary shows
        self.scope_of: dict[str, str] = {}  # planned at the first schedule(); see _plan_scopes
        self.thief: WorkerController | None = None  # one steal at a time, as xdist's worksteal does
        self.victim: WorkerController | None = None

    def _split_scope(self, nodeid: str) -> str:
        scope = self.scope_of.get(nodeid)
        if scope is not None:
            return scope
        unit = self.workload.unit_of(nodeid)
        return f"ma-unit::{unit.key}" if unit else super()._split_scope(nodeid)

    def schedule(self) -> None:
        """The first call plans the scopes and gives each worker its first unit; later calls (a worker added
        after a crash) hand out work as any completed test does. Unlike loadscope's, it does not tell every
        worker to shut down when the first units empty the queue: a worker left idle may still split a unit."""
        if self.collection is not None:
            for node in self.nodes:
                self._reschedule(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return
        self._plan_scopes(self.collection)
        for nodeid in self.collection:
            self.workqueue.setdefault(self._split_scope(nodeid), {})[nodeid] = False
        for node in self.nodes:
            if self.workqueue:
                self._assign_work_unit(node)
        for node in self.nodes:
            self._reschedule(node)

    def _plan_scopes(self, collection: Sequence[str]) -> None:
        """With fewer units than workers, loadscope would shut the extra workers down at once: split the
        largest splittable units in halves (at a variant's edge where there is one) until each worker has one."""
        scopes: dict[str, list[str]] = {}
        for nodeid in collection:
            scopes.setdefault(self._split_scope(nodeid), []).append(nodeid)
        while len(scopes) < len(self.nodes):
            splittable = [scope for scope, nodeids in scopes.items()
                          if len(nodeids) >= 2 and self._splittable(nodeids[0])]
            if not splittable:
                break
            scope = max(splittable, key=lambda name: sum(self.workload.cost_of(n) for n in scopes[name]))
            nodeids = scopes[scope]
            middle = len(nodeids) // 2
            edges = [i for i in range(1, len(nodeids)) if _variant(nodeids[i]) != _variant(nodeids[i - 1])]
            if edges:
                middle = min(edges, key=lambda i: abs(i - len(nodeids) / 2))
            scopes[scope], scopes[f"{scope}#{len(scopes)}"] = nodeids[:middle], nodeids[middle:]
        self.scope_of = {nodeid: scope for scope, nodeids in scopes.items() for nodeid in nodeids}

    def _assign_work_unit(self, node: WorkerController) -> None:
        def cost(scope: str) -> float:
            nodeids = self.workqueue[scope]
            unit = self.workload.unit_of(next(iter(nodeids)))
            return unit.cost if unit is not None else float(len(nodeids))

        scope = max(self.workqueue, key=cost)
        self.workqueue.move_to_end(scope, last=False)  # the parent assigns the first unit of the queue
        super()._assign_work_unit(node)

    @property
    def tests_finished(self) -> bool:
        return self.thief is None and super().tests_finished

    def _reschedule(self, node: WorkerController) -> None:
        if node.shutting_down or self._pending_of(self.assigned_work[node]) > 1:
            return
        if self.workqueue:
            self._assign_work_unit(node)
        elif node is not self.thief and not (self.thief is None and self._request_steal(node)):
            node.shutdown()

    # -- splitting a unit at the tail ---------------------------------------------------------------
    def _request_steal(self, thief: WorkerController) -> bool:
        """Ask the busiest worker for the later half of its queued points, if the thief would finish them,
        variant load included, before the busiest worker finishes what it has."""
        best: tuple[float, WorkerController, list[str]] | None = None
        for node, work in self.assigned_work.items():
            if node is thief or node.shutting_down:
                continue
            pending = [nodeid for unit in work.values() for nodeid, done in unit.items() if not done]
            remaining = sum(self.workload.cost_of(nodeid) for nodeid in pending)
            movable = [nodeid for nodeid in pending[1:]  # [0] is running
                       if self.workload.cost_of(nodeid) > 0 and self._splittable(nodeid)]
            take = movable[len(movable) // 2:] if len(movable) >= 2 else []
            taken = sum(self.workload.cost_of(nodeid) for nodeid in take)
            if take and LOAD_S + taken < remaining and (best is None or remaining > best[0]):
                best = (remaining, node, take)
        if best is None:
            return False
        _, victim, take = best
        collection = self.registered_collections[victim]
        victim.send_steal([collection.index(nodeid) for nodeid in take])
        self.thief, self.victim = thief, victim
        return True

    def _splittable(self, nodeid: str) -> bool:
        unit = self.workload.unit_of(nodeid)
        return unit is not None and unit.splittable

    def remove_pending_tests_from_node(self, node: WorkerController, indices: Sequence[int]) -> None:
        """The victim's answer to `steal`: the points it gave up (none if it had started any of them)."""
        thief, self.thief, self.victim = self.thief, None, None
        collection = self.registered_collections[node]
        stolen = [collection[index] for index in indices]
        for nodeid in stolen:
            self.assigned_work[node][self._split_scope(nodeid)].pop(nodeid, None)
        if stolen and (thief is None or thief.shutting_down or thief not in self.assigned_work):
            # The thief went away meanwhile: the tests go back where they came from.
            if node.shutting_down:
                for nodeid in stolen:
                    self.workqueue.setdefault(self._split_scope(nodeid), {})[nodeid] = False
            else:
                for nodeid in stolen:
                    self.assigned_work[node][self._split_scope(nodeid)][nodeid] = False
                node.send_runtest_some(indices)
        elif stolen and thief is not None:
            variants = ", ".join(dict.fromkeys(nodeid.split("::")[-2] for nodeid in stolen))
            self.note(f"{variants}: {len(stolen)} point(s) ran on a second worker, which loaded the model "
                      "too, as the other workers had run out of work")
            self.assigned_work[thief].setdefault(self._split_scope(stolen[0]), {}).update(
                {nodeid: False for nodeid in stolen})
            own = self.registered_collections[thief]
            thief.send_runtest_some([own.index(nodeid) for nodeid in stolen])
        for other in list(self.assigned_work):
            self._reschedule(other)

    def drop(self, nodeid: str) -> None:
        """Never run `nodeid` again (it crashed a worker twice): marked done where the queue holds it."""
        unit = self.workqueue.get(self._split_scope(nodeid))
        if unit is not None and nodeid in unit:
            unit[nodeid] = True
            if all(unit.values()):
                del self.workqueue[self._split_scope(nodeid)]

    def remove_node(self, node: WorkerController) -> str | None:
        if node is self.thief:
            self.thief = None  # the victim's answer puts the points back in the queue
        elif node is self.victim:
            self.thief = self.victim = None  # no answer will come; the parent requeues its work
        pending: str | None = super().remove_node(node)
        return pending


def _variant(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[0]
