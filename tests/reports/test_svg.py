"""Plot axes: ticks on round numbers, labels without exponents."""

from __future__ import annotations

import itertools
import math

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
# Found by a full run: a span below the values' precision never reached its end (it ran out of memory).
@example(low=9999.999999999998, width=1.8189894035458565e-12)
def test_ticks_cover_even_a_vanishing_range(low: float, width: float) -> None:
    high = low + width
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12


@given(low=st.floats(-1e12, 1e12), ulps=st.integers(0, 64))
def test_ticks_cover_a_range_only_a_few_floats_wide(low: float, ulps: int) -> None:
    high = low
    for _ in range(ulps):
        high = math.nextafter(high, math.inf)
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12


@given(st.lists(st.lists(st.tuples(st.floats(0.5, 64.0), st.floats(0.0, 1e4)), min_size=1, max_size=6),
                min_size=2, max_size=5),
       st.booleans())
def test_no_point_of_a_line_plot_hides_under_the_legend(series: list[list[tuple[float, float]]],
                                                        zero_based: bool) -> None:
    """The legend's rows sit top right; the plot's range leaves them room above every point, and a dashed
    companion series (an A/B run's baseline) has a row of its own."""
    import re

    from pytest_model_analyzer.reports.svg import TOP, svg_plot

    named = {f"v{i}": values for i, values in enumerate(series)}
    named[f"v{len(series) - 1} (baseline)"] = series[-1]
    svg = svg_plot("t", "x", "y", named, zero_based=zero_based, dashed=[f"v{len(series) - 1} (baseline)"])
    legend_bottom = TOP + 12 + 14 * (len(named) - 1) + 4  # the last row's baseline and its descenders
    assert all(float(cy) - 3.5 >= legend_bottom for cy in re.findall(r'<circle cx="[^"]+" cy="([^"]+)" r="3.5"', svg))
    rows = re.findall(r'<text x="[^"]+" y="([^"]+)" font-size="11">', svg)
    assert len(rows) == len(named) == len(set(rows))
