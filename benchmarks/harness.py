"""What the benchmarks share: alternating rounds of the things compared, how the figures are reported, and
the checks that a run did the work it claims (points really measured, not reused from a checkpoint)."""

from __future__ import annotations

import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_model_analyzer.infra.procs import set_parent_death_signal

# No benchmark run takes this long unless it hangs: past it, the run is killed and the benchmark fails with its log.
RUN_TIMEOUT_S = 1800.0


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A fresh directory for a benchmark's runs: removed when the benchmark succeeds, kept with every run's
    directory and log when it fails (or is interrupted), and the path printed, so that a failure can be read."""
    base = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        yield base
    except BaseException:
        print(f"{name}: the runs' directories and logs are kept in {base}", file=sys.stderr)
        raise
    shutil.rmtree(base, ignore_errors=True)


def run_logged(command: Sequence[str], cwd: Path, who: str, env: Mapping[str, str] | None = None,
               timeout: float = RUN_TIMEOUT_S, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """One child run of a benchmark, its command and output kept in `log` (`cwd/run.log`) whatever happens. A
    run past `timeout` is killed (its servers follow it: they die with their parent) and fails the benchmark; a
    benchmark that is killed takes its child with it (it gets SIGTERM when its parent dies)."""
    log = log or cwd / "run.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False,
                                timeout=timeout, preexec_fn=set_parent_death_signal)
    except subprocess.TimeoutExpired as exc:
        out, err = (part.decode(errors="replace") if isinstance(part, bytes) else part or ""
                    for part in (exc.stdout, exc.stderr))
        log.write_text(f"$ {' '.join(command)}\n(killed after {timeout:g} s)\n{out}\n{err}")
        raise DidNotDoItsWork(f"benchmark did not do its work: {who} did not finish within {timeout:g} s; "
                              f"its output: {log}") from None
    log.write_text(f"$ {' '.join(command)}\n(exit {result.returncode} after {time.perf_counter() - started:.1f} s)"
                   f"\n{result.stdout}\n{result.stderr}")
    return result


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


def median_range(values: Sequence[float], form: str = ".1f") -> str:
    """`12.3 (11.9-13.0)`: a figure's median over rounds or seeds and its range; the value alone for one."""
    text = format(statistics.median(values), form)
    return text if len(values) == 1 else f"{text} ({format(min(values), form)}-{format(max(values), form)})"


def emit(lines: list[tuple[str, str]], figures: dict[str, Any], json_path: Path | None) -> None:
    width = max(len(label) for label, _ in lines) + 2
    for label, value in lines:
        print(f"{label + ':':<{width}}{value}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")


class DidNotDoItsWork(SystemExit):
    """A benchmark whose run did not do the work it claims: no figure is printed or written."""


def require(condition: bool, what: str) -> None:
    """Fail loudly: a figure from a run that did not do its work is worse than no figure."""
    if not condition:
        raise DidNotDoItsWork(f"benchmark did not do its work: {what}")


@dataclass(frozen=True)
class ItemCount:
    measured: int  # measured by perf_analyzer in this run
    same_config: int  # took the measurement of an identical config measured earlier in the same run
    from_checkpoint: int  # reused from a checkpoint or an import: not measured in this run
    without: int  # skipped or errored: no measurement


def count_items(junit: Path) -> ItemCount:
    """How each item of a plugin run got its measurement, from its junit XML (`ma_measurement`, `ma_from`)."""
    measured = same = stored = without = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        origin = properties.get("ma_from")
        if "ma_measurement" not in properties:
            without += 1
        elif origin is None:
            measured += 1
        elif origin.startswith("same config as "):
            same += 1
        else:
            stored += 1
    return ItemCount(measured, same, stored, without)


def run_profile(workdir: Path, body: str, who: str) -> tuple[list[Any], ItemCount, float]:
    """One plugin run of the profile `body` in `workdir` (a fresh directory, so nothing comes from an earlier
    checkpoint): its measurements, how its items got them, and its seconds. Fails unless every measurement of its
    checkpoint was taken by this run."""
    from pytest_model_analyzer.infra.checkpoint import read

    (workdir / "profile.yaml").write_text(body)
    started = time.perf_counter()
    result = run_logged([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--ma-config",
                         "profile.yaml", "--junitxml=run.xml"], workdir, who)
    seconds = time.perf_counter() - started
    require(result.returncode == 0, f"{who} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    measurements = read(workdir / "checkpoints" / "0.ckpt")
    items = count_items(workdir / "run.xml")
    require(items.from_checkpoint == 0 and items.measured + items.same_config == len(measurements) > 0,
            f"{who}: {items} does not match the {len(measurements)} measurements of its checkpoint")
    return measurements, items, seconds


def planned_profile(body: str) -> Any:
    """The profile YAML `body` as collection sees it: validated and planned (paths relative to benchmarks/)."""
    import yaml

    from pytest_model_analyzer.config.builder import build_profile
    from pytest_model_analyzer.search.plan import plan_profile

    return plan_profile(build_profile(yaml.safe_load(body), config_dir=Path(__file__).parent))


def replay_profile(body: str, answer: Callable[[Any], Any]) -> list[Any]:
    """Every point of the profile `body` resolved through the plugin's own ledger and search, in collection order,
    as its items would resolve them, with `answer` standing in for perf_analyzer: it is asked for exactly what the
    search would measure. Returns each point's measurement (None for a point the search skips)."""
    from pytest_model_analyzer.config.points import profile_points
    from pytest_model_analyzer.results.ledger import Ledger

    points = list(profile_points(planned_profile(body)))
    ledger = Ledger()
    for point in points:
        ledger.search.register(point)
    return [ledger.resolve(point, answer).measurement for point in points]


def require_measured(junit: Path, points: int, who: str) -> ItemCount:
    """Every one of `points` items got a measurement taken in this run (none from a checkpoint)."""
    require(junit.exists(), f"{who}: no junit XML at {junit}")
    count = count_items(junit)
    require(count.from_checkpoint == 0, f"{who}: {count.from_checkpoint} items reused a checkpoint's measurement")
    require(count.measured + count.same_config == points and count.without == 0,
            f"{who}: expected {points} measured points, got {count}")
    return count
