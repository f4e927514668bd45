"""Placeholder types: boolean, string, comma-delimited list, int, list, {start, stop, step} range, dict."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_model_analyzer.config import ConfigError
from pytest_model_analyzer.config import values as v


@given(start=st.integers(-50, 50), span=st.integers(0, 100), step=st.integers(1, 20))
def test_range_expands_like_python_range_with_inclusive_stop(start: int, span: int, step: int) -> None:
    stop = start + span
    assert v.parse_int_list({"start": start, "stop": stop, "step": step}, "k") == list(range(start, stop + 1, step))


@given(start=st.integers(-50, 50), span=st.integers(0, 30))
def test_range_step_defaults_to_one(start: int, span: int) -> None:
    assert v.parse_int_list({"start": start, "stop": start + span}, "k") == list(range(start, start + span + 1))


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=20))
def test_comma_string_list_and_yaml_list_agree(numbers: list[int]) -> None:
    text = ",".join(str(n) for n in numbers)
    assert v.parse_int_list(text, "k") == numbers
    assert v.parse_int_list(numbers, "k") == numbers
    assert v.parse_int_list(", ".join(str(n) for n in numbers), "k") == numbers


@given(st.integers(-1000, 1000))
def test_a_scalar_is_a_list_of_one(number: int) -> None:
    assert v.parse_int_list(number, "k") == [number]
    assert v.parse_int_list(str(number), "k") == [number]


def test_model_analyzer_documented_range_example() -> None:
    # The documentation's example: {start: 2, stop: 6, step: 2} declares [2, 4, 6].
    assert v.parse_int_list({"start": 2, "stop": 6, "step": 2}, "batch_sizes") == [2, 4, 6]
    # Stop is included only when the step lands on it (Model Analyzer's code, not its docs).
    assert v.parse_int_list({"start": 2, "stop": 64, "step": 8}, "k") == [2, 10, 18, 26, 34, 42, 50, 58]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"start": 8, "stop": 4}, "range start 8 is greater than stop 4"),
        ({"start": 1, "stop": 4, "stride": 2}, "not stride"),
        ({"start": 1}, "needs stop"),
        ({"start": 1, "stop": 4, "step": 0}, "must be positive"),
        ("1,two,3", "expected an integer, got 'two'"),
        ([1, 2.5], "expected an integer, got 2.5"),
        (True, "expected an integer"),
        ("1,,3", "empty item"),
        ([], "the list is empty"),
    ],
)
def test_bad_numeric_lists_name_the_key(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^batch_sizes") as info:
        v.parse_int_list(value, "batch_sizes")
    assert message in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("False", False), (True, True), ("no", False)])
def test_booleans(text: object, expected: bool) -> None:
    assert v.parse_bool(text, "k") is expected


@given(st.lists(st.text(alphabet="abcxyz_-0123", min_size=1, max_size=8), min_size=1, max_size=8))
def test_comma_delimited_strings(names: list[str]) -> None:
    assert v.parse_str_list(",".join(names), "k") == names
    assert v.parse_str_list(names, "k") == names


def test_dict_values_are_stringified_for_flags() -> None:
    assert v.parse_str_dict({"log-verbose": 1, "strict": False}, "k") == {"log-verbose": "1", "strict": "false"}
    with pytest.raises(ConfigError, match=r"^k\.x: expected a scalar"):
        v.parse_str_dict({"x": [1]}, "k")
