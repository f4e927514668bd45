"""Where a run's wall time goes, process by process: a pytest plugin that the benchmarks load with
`-p timeline` (benchmarks/ on PYTHONPATH) and `MA_TIMELINE_DIR` set, and the breakdown of what it recorded.

Each process (the serial run, or the xdist controller and each worker) appends one JSON line per event to
`<dir>/<worker id or "main">.jsonl`, stamped with `time.time()` (one clock for all processes of a host). The
breakdown splits each worker's share of the run's wall time into: before its first item (process start,
imports, collection, waiting for work), inside items (measurements and loads), between items (waiting for
xdist to hand out the next), the session's end (the last item's teardown: stopping the server), and after
(until the run's process exits)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_DIR = "MA_TIMELINE_DIR"


def _record(event: str, **fields: Any) -> None:
    directory = os.environ.get(_DIR)
    if not directory:
        return
    name = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(Path(directory) / f"{name}.jsonl", "a", encoding="utf-8") as file:
        file.write(json.dumps({"event": event, "at": time.time(), **fields}) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    _record("item", nodeid=item.nodeid)
    yield
    _record("item_end", nodeid=item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if nextitem is None:  # the session's fixtures end here: the server stops
        _record("session_end")
    yield


@dataclass(frozen=True)
class Share:
    """One process's seconds, from the run's start to its end: they add up to the run's wall time."""

    name: str
    items: int
    before_first_item: float
    in_items: float
    between_items: float
    session_end: float
    after: float

    def line(self) -> str:
        return (f"{self.name}: {self.before_first_item:.2f} s before its first item, {self.in_items:.2f} s in "
                f"{self.items} items, {self.between_items:.2f} s between them, {self.session_end:.2f} s "
                f"stopping, {self.after:.2f} s after")


def breakdown(directory: Path, started: float, ended: float) -> list[Share]:
    """Each process that ran items (the serial process, or each xdist worker), by name. `started` and `ended`
    are the run's own `time.time()` bounds, taken by whoever started the run."""
    shares = []
    for path in sorted(directory.glob("*.jsonl")):
        events = [json.loads(line) for line in path.read_text().splitlines()]
        starts = [e["at"] for e in events if e["event"] == "item"]
        ends = [e["at"] for e in events if e["event"] == "item_end"]
        if not starts or len(starts) != len(ends):
            continue  # the xdist controller runs no items
        session_end = next((e["at"] for e in events if e["event"] == "session_end"), ends[-1])
        busy = sum(end - start for start, end in zip(starts, ends, strict=True))
        stopping = ends[-1] - session_end
        shares.append(Share(
            name=path.stem, items=len(starts), before_first_item=starts[0] - started,
            in_items=busy - stopping, between_items=(ends[-1] - starts[0]) - busy, session_end=stopping,
            after=ended - ends[-1]))
    return shares


def as_json(shares: list[Share]) -> list[dict[str, Any]]:
    return [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(share).items()} for share in shares]
