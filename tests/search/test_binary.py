"""The binary search of the load at a constraint boundary: Model Analyzer's ParameterSearch rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.search.binary import boundary, step_loads


def test_the_last_step_from_passing_to_failing_is_the_boundary() -> None:
    assert boundary([(1, True), (2, True), (4, False), (8, False)]) == (2, 4)
    assert boundary([(1, True), (2, False), (4, True), (8, False)]) == (4, 8)  # the last crossing, from the end
    assert boundary([(1, True), (2, False)]) == (1, 2)  # the first pair too (Model Analyzer's scan skips it)
    assert boundary([(1, False), (2, False)]) == (0, 1)  # failing from the start: search below the first load
    assert boundary([(1, True), (2, True)]) is None
    assert boundary([(1, True), (2, None), (4, False)]) is None  # a failed measurement is not a crossing
    assert boundary([]) is None


def test_bisection_follows_model_analyzers_steps() -> None:
    # Between 16 (passes) and 32 (fails): 24 fails, then 20 passes, then 22 passes, then 23.
    outcomes = {24: False, 20: True, 22: True, 23: False}
    assert step_loads((16, 32), outcomes, steps=5) == [24, 20, 22, 23]
    assert step_loads((16, 32), {}, steps=5) == [24]  # the next load to measure is the last one
    assert step_loads((16, 32), {24: False}, steps=5) == [24, 20]
    assert step_loads((16, 32), outcomes, steps=2) == [24, 20]
    assert step_loads((16, 32), {24: None}, steps=5) == [24]  # a step that failed to measure stops it
    assert step_loads((2, 4), {3: True}, steps=5) == [3]  # the bounds meet
    assert step_loads((0, 1), {}, steps=5) == []  # no load between 0 and 1


@given(low=st.integers(0, 1000), width=st.integers(1, 1000), steps=st.integers(0, 12),
       verdicts=st.lists(st.booleans(), max_size=12))
def test_steps_stay_strictly_inside_the_bounds_and_never_repeat(low: int, width: int, steps: int,
                                                                verdicts: list[bool]) -> None:
    high = low + width
    outcomes: dict[int, bool | None] = {}
    loads = step_loads((low, high), outcomes, steps)
    for verdict in verdicts:  # measure the next load, as the items do one after another
        if not loads or loads[-1] in outcomes:
            break
        outcomes[loads[-1]] = verdict
        loads = step_loads((low, high), outcomes, steps)
    assert len(loads) <= steps and len(set(loads)) == len(loads)
    assert all(low < load < high and load >= 1 for load in loads)
    # Each step lies strictly between the last passing and the first failing load measured before it.
    passing, failing = low, high
    for load in loads:
        assert passing < load < failing
        if load in outcomes:
            passing, failing = (load, failing) if outcomes[load] else (passing, load)
