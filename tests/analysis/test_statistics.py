"""The decision rule's named parts: the allowance's tests, and the words that state the rule in reports."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.analysis.statistics import (
    CONFIRMING,
    RULE,
    Allowance,
    StdError,
    Verdict,
    pooled_variance,
    settle,
)

TEN_PERCENT = Allowance(0.10, higher_is_better=True)
WORSE, FINE = math.log(0.85), math.log(0.99)  # a throughput 15% and 1% lower


def test_the_rule_in_words_names_the_thresholds_the_code_applies() -> None:
    stated = re.search(r"at least (\w+) \{trials\}, more than half of them", RULE)
    assert stated is not None and int(stated.group(1)) == CONFIRMING
    # The confirmation the words describe: CONFIRMING trials worse than allowed, and a majority.
    assert not TEN_PERCENT.confirmed([WORSE] * (CONFIRMING - 1))
    assert TEN_PERCENT.confirmed([WORSE] * CONFIRMING)
    assert not TEN_PERCENT.confirmed([WORSE] * CONFIRMING + [FINE] * CONFIRMING)  # no majority
    # "worse than allowed, its whole interval worse than no change": fails; "within the allowance and the
    # interval's half-width at most the allowance": passes.
    tight = StdError(0.01, 30)
    assert settle(WORSE, [WORSE] * CONFIRMING, tight, tight, TEN_PERCENT, final=True).verdict is Verdict.FAIL
    assert settle(FINE, [FINE] * CONFIRMING, tight, tight, TEN_PERCENT, final=True).verdict is Verdict.PASS
    wide = StdError(TEN_PERCENT.limit, 30)  # half-width above the allowance
    assert settle(FINE, [FINE], wide, wide, TEN_PERCENT, final=True).verdict is Verdict.INCONCLUSIVE
    # Every report that states the rule fills in both of its words.
    assert "{" not in RULE.format(trials="pairs", trial="pair")


def test_worse_follows_the_metrics_direction() -> None:
    latency = Allowance(0.10, higher_is_better=False)
    assert latency.worse_by(math.log(1.2)) > latency.limit  # 20% slower
    assert TEN_PERCENT.worse_by(math.log(1.2)) < 0  # 20% more throughput is better
    assert TEN_PERCENT.limit == -math.log(0.9) and latency.limit == math.log(1.1)


@given(st.lists(st.lists(st.floats(-1, 1), max_size=6), max_size=8))
def test_pooled_variance_is_the_within_group_variance_over_sum_n_minus_1(groups: list[list[float]]) -> None:
    variance, df = pooled_variance(groups)
    assert df == sum(len(group) - 1 for group in groups if len(group) > 1)
    if df == 0:
        assert variance is None
    else:
        squares = sum(sum((x - sum(g) / len(g)) ** 2 for x in g) for g in groups if len(g) > 1)
        assert variance is not None and math.isclose(variance, squares / df, rel_tol=1e-9, abs_tol=1e-12)


def test_the_quantiles_are_students_t_and_the_f_distributions() -> None:
    """Known table values: t(0.975) and F(0.95), as every statistics textbook prints them."""
    from pytest_model_analyzer.analysis.ab import _f_quantile
    from pytest_model_analyzer.analysis.statistics import t_quantile

    assert [round(t_quantile(df), 3) for df in (1, 2, 5, 30)] == [12.706, 4.303, 2.571, 2.042]
    assert round(_f_quantile(0.95, 3, 5), 2) == 5.41 and round(_f_quantile(0.95, 10, 2), 2) == 19.40
