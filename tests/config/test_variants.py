"""model_config_parameters expansion: Model Analyzer's sweep rules, names and de-duplication."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.config import ConfigError
from pytest_model_analyzer.config.variants import apply_variant, expand_parameters, make_variants


def test_default_first_then_numbered_in_order() -> None:
    variants = make_variants("resnet50", {"max_batch_size": [4, 8]})
    assert [v.name for v in variants] == ["resnet50_config_default", "resnet50_config_0", "resnet50_config_1"]
    assert [v.parameters for v in variants] == [{}, {"max_batch_size": 4}, {"max_batch_size": 8}]


# The combination counts of Model Analyzer's own probes (inventory section 1.2).
@pytest.mark.parametrize(
    ("parameters", "count"),
    [
        ({"instance_group": [{"count": [1, 2, 3, 4], "kind": "KIND_GPU"}]}, 4),
        ({"dynamic_batching": [{}, None], "instance_group": [{"count": [1], "kind": ["KIND_GPU", None]}]}, 4),
        ({"max_batch_size": [1, 4], "dynamic_batching": {"max_queue_delay_microseconds": [100, 200]}}, 4),
    ],
)
def test_model_analyzer_probe_counts(parameters: dict, count: int) -> None:
    assert len(expand_parameters(parameters)) == count


def test_repeated_field_sweeps_only_with_a_list_of_lists() -> None:
    one = expand_parameters({"instance_group": [{"kind": "KIND_CPU", "count": 1}, {"kind": "KIND_CPU", "count": 2}]})
    assert one == [{"instance_group": [{"kind": "KIND_CPU", "count": 1}, {"kind": "KIND_CPU", "count": 2}]}]
    two = expand_parameters({"instance_group": [[{"kind": "KIND_CPU", "count": 1}], [{"kind": "KIND_GPU"}]]})
    assert two == [{"instance_group": [{"kind": "KIND_CPU", "count": 1}]}, {"instance_group": [{"kind": "KIND_GPU"}]}]


def test_identical_variants_are_one() -> None:
    variants = make_variants("m", {"max_batch_size": [4, 8, 4]})
    assert [v.parameters["max_batch_size"] for v in variants[1:]] == [4, 8]


def test_null_leaves_the_repository_value() -> None:
    base = {"name": "m", "max_batch_size": 8, "instance_group": [{"count": 1}]}
    variants = make_variants("m", {"dynamic_batching": [{}, None]}, base_config=base)
    # As Model Analyzer: the null choice is a variant of its own, whose config is the repository's.
    assert [(v.name, v.parameters) for v in variants] == [
        ("m_config_default", {}), ("m_config_0", {"dynamic_batching": {}}), ("m_config_1", {})]
    assert apply_variant(base, variants[1]) == {**base, "dynamic_batching": {}}
    assert apply_variant(base, variants[0]) == apply_variant(base, variants[2]) == base


def test_unknown_field_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^model_config_parameters\.max_batch: `max_batch` is not a field"):
        expand_parameters({"max_batch": [1, 2]})
    with pytest.raises(ConfigError, match=r"instance_group\[0\]\.cnt"):
        expand_parameters({"instance_group": [{"cnt": 2}]})


@given(
    sizes=st.lists(st.integers(1, 64), min_size=1, max_size=5),
    counts=st.lists(st.integers(1, 8), min_size=1, max_size=5),
    delays=st.lists(st.integers(0, 1000), min_size=1, max_size=3),
)
def test_variant_count_is_product_of_distinct_choices(sizes: list[int], counts: list[int], delays: list[int]) -> None:
    parameters = {
        "max_batch_size": sizes,
        "instance_group": [{"kind": "KIND_CPU", "count": counts}],
        "dynamic_batching": {"max_queue_delay_microseconds": delays},
    }
    variants = make_variants("m", parameters)
    expected = math.prod(len(set(choices)) for choices in (sizes, counts, delays))
    assert len(variants) == expected + 1  # plus the default config
    assert len({v.key() for v in variants}) == len(variants)
    assert [v.name for v in variants[1:]] == [f"m_config_{i}" for i in range(expected)]


def test_integer_field_takes_a_range() -> None:
    variants = make_variants("m", {"max_batch_size": {"start": 2, "stop": 8, "step": 2}})
    assert [v.parameters.get("max_batch_size") for v in variants] == [None, 2, 4, 6, 8]


def test_reload_order_groups_variants_that_differ_only_in_instances() -> None:
    from pytest_model_analyzer.plugin.collect import reload_order

    variants = make_variants("add", {"max_batch_size": [4, 8], "instance_group": [{"kind": "KIND_CPU",
                                                                                   "count": [1, 2]}]})
    order = [v.name for v in reload_order(variants, {"max_batch_size": 8, "instance_group": [{"count": 1}]})]
    # default (8), then the two 8s, then the two 4s: one full reload instead of two.
    assert order == ["add_config_default", "add_config_1", "add_config_3", "add_config_0", "add_config_2"]
