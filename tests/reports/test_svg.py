"""Plot axes: ticks on round numbers, labels without exponents."""

from __future__ import annotations

import itertools

from hypothesis import example, given
from hypothesis import strategies as st

from pytest_model_analyzer.reports.svg import nice_ticks, tick_label


def test_ticks_fall_on_one_two_or_five_times_a_power_of_ten() -> None:
    assert nice_ticks(0, 94.5) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 2770) == [0, 1000, 2000, 3000]
    assert nice_ticks(0, 0.43) == [0, 0.1, 0.2, 0.3, 0.4, 0.5]


def test_labels_are_written_out() -> None:
    assert [tick_label(v) for v in (0, 2770, 18.9, 0.05, 1500.0, 2.0)] == ["0", "2,770", "18.9", "0.05", "1,500", "2"]


@given(low=st.floats(-1e6, 1e6), width=st.floats(1e-3, 1e7))
@example(low=-5e-324, width=6.0)  # found by hypothesis in CI-like run: low / step underflowed to -0.0
def test_ticks_cover_the_range_in_a_few_even_steps(low: float, width: float) -> None:
    high = low + width
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len({round(step / max(steps), 6) for step in steps}) == 1  # evenly spaced



@given(low=st.floats(-1e6, 1e6), width=st.floats(0, 1e-3))
@example(low=0.0, width=5e-324)  # found by hypothesis in a CI-like run: the span's power of ten underflowed to 0
def test_ticks_cover_even_a_vanishing_range(low: float, width: float) -> None:
    high = low + width
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12
