"""What the benchmarks share: alternating rounds of the things compared, and how the figures are reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def alternate(rounds: int, runs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run each contender once per round, reversing the order every other round, so that drift in the
    machine's load hits all alike. Returns the seconds of each, by name."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for index in range(rounds):
        order = list(runs.items()) if index % 2 == 0 else list(reversed(runs.items()))
        for name, run in order:
            seconds[name].append(run())
            print(f"round {index + 1}: {name:12s} {seconds[name][-1]:7.2f} s", flush=True)
    return seconds


def emit(lines: list[tuple[str, str]], figures: dict[str, Any], json_path: Path | None) -> None:
    width = max(len(label) for label, _ in lines) + 2
    for label, value in lines:
        print(f"{label + ':':<{width}}{value}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
