"""A point's identity and its setup: what says two measurements measured the same thing."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.domain.identity import Setup, canonical, config_digest, digest

SCALARS = st.one_of(st.integers(-1000, 1000), st.text(max_size=5), st.booleans())
CONFIGS = st.dictionaries(st.text(min_size=1, max_size=6), st.one_of(SCALARS, st.lists(SCALARS, max_size=3)),
                          max_size=5)


@given(CONFIGS)
def test_a_digest_does_not_depend_on_key_order(config: dict[str, Any]) -> None:
    reordered = dict(reversed(list(config.items())))
    assert digest(reordered) == digest(config) and canonical(reordered) == canonical(config)


@given(CONFIGS, CONFIGS, st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8))
def test_composing_configs_count_by_model_and_config_not_by_variant_name(
        own: dict[str, Any], composing: dict[str, Any], one_name: str, other_name: str) -> None:
    """Another search's numbering of the same composing configs measures the same thing."""
    first = [{"model": "add", "variant": one_name, "config": composing}]
    second = [{"model": "add", "variant": other_name, "config": composing}]
    assert config_digest(own, first) == config_digest(own, second)
    assert config_digest(own, first) != config_digest(own)  # the composing configs are part of it
    edited = [{"model": "add", "variant": one_name, "config": {**composing, "edited": True}}]
    assert config_digest(own, edited) != config_digest(own, first)


def test_a_setup_is_the_same_whatever_the_order_of_its_flags() -> None:
    one = Setup.of("add", "abc", 1, "concurrency", 4, {"measurement-mode": "time_windows", "async": True})
    two = Setup.of("add", "abc", 1, "concurrency", 4, {"async": True, "measurement-mode": "time_windows"})
    assert one == two and hash(one) == hash(two)
    assert one != Setup.of("add", "abc", 1, "request_rate", 4, {"async": True, "measurement-mode": "time_windows"})
