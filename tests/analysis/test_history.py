"""The history of checkpoints: one entry per measurement taken, shifts where the level moved for good."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.history import Run, build, shifts
from pytest_model_analyzer.domain.measurement import Measurement


def m(throughput: float, timestamp: float, load: int = 1) -> Measurement:
    return Measurement(model="add", variant="add_config_default", batch_size=1, load_kind="concurrency", load=load,
                       metrics={"perf_throughput": throughput}, timestamp=timestamp)


def test_a_step_is_a_shift_and_a_single_disturbed_run_is_not() -> None:
    assert shifts([100, 101, 99, 100, 60, 61, 59]) == [4]
    assert shifts([100, 101, 55, 100, 99, 101]) == []  # one run off: an outlier
    assert shifts([100, 101, 99, 100, 101, 99]) == []
    assert shifts([100, 60, 61]) == []  # too short to call a new level persistent


def test_a_measurement_reused_by_later_checkpoints_is_one_entry() -> None:
    first = m(100.0, timestamp=1.0)
    runs = [Run(0, [first]), Run(1, [first]), Run(2, [m(98.0, timestamp=3.0)])]
    [series] = build(runs, metrics=["perf_throughput"])
    assert [(e.checkpoint, e.value) for e in series.entries] == [(0, 100.0), (2, 98.0)]


def test_a_run_on_another_testbed_is_marked() -> None:
    runs = [Run(i, [m(100.0, timestamp=float(i))], {"cpu": "A" if i < 2 else "B"}) for i in range(4)]
    [series] = build(runs, metrics=["perf_throughput"])
    assert [e.other_testbed for e in series.entries] == [False, False, True, False]


def test_the_shift_size_compares_the_levels_either_side() -> None:
    runs = [Run(i, [m(value, timestamp=float(i))]) for i, value in enumerate([100, 102, 98, 100, 60, 59, 61])]
    [series] = build(runs, metrics=["perf_throughput"])
    assert series.shifts == (4,) and round(series.shift_of(4), 2) == -0.4


@settings(max_examples=60, deadline=None, derandomize=True)
@given(level=st.floats(1, 1e5), runs=st.integers(4, 16), seed=st.integers(0, 10_000))
def test_a_large_step_is_always_found_where_it_is(level: float, runs: int, seed: int) -> None:
    rng = random.Random(seed)
    noisy = [level * (1 + rng.gauss(0, 0.01)) for _ in range(runs)]
    half = runs // 2
    stepped = [v * (0.5 if i >= half else 1.0) for i, v in enumerate(noisy)]
    assert half in shifts(stepped)  # a 50% step with 1% noise, two runs or more on each side


def test_noise_alone_is_seldom_a_shift() -> None:
    rng = random.Random(7)
    marked = sum(bool(shifts([100 * (1 + rng.gauss(0, 0.02)) for _ in range(12)])) for _ in range(300))
    assert marked <= 9  # 0.5% expected (3% would be a penalty that cries wolf)
