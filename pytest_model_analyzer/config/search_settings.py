"""What the automatic search may try: its mode, its ranges, optuna's budget. Built by `builder.py` from the
`run_config_search_*` and `optuna_*` keys; read by `search/`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.domain.errors import ConfigError


class SearchStrategy(enum.Enum):
    """The YAML's `run_config_search_mode`, Model Analyzer's words, read once by the option table: what a model's
    SearchMode is decided from (builder.py)."""

    BRUTE = "brute"
    QUICK = "quick"
    OPTUNA = "optuna"


def parse_search_strategy(value: Any, key: str) -> SearchStrategy:
    text = v.parse_str(value, key)
    try:
        return SearchStrategy(text)
    except ValueError:
        raise ConfigError(key, f"must be one of {', '.join(s.value for s in SearchStrategy)}, got `{text}`") from None


class SearchMode(enum.Enum):
    """How a model's configurations are chosen: one vocabulary for the whole plugin.

    The YAML's `run_config_search_mode` (brute, quick, optuna) and `run_config_search_disable` map onto it."""

    DISABLED = "disabled"  # the listed variants (or the default config), no early exits
    MANUAL = "manual"  # brute over model_config_parameters
    AUTOMATIC = "automatic"  # brute over the automatic space (instance count x max_batch_size)
    QUICK = "quick"  # hill climb over the automatic space
    OPTUNA = "optuna"  # TPE trials over the automatic space (or the listed values) and the load

    @property
    def is_automatic(self) -> bool:
        """Whether the search layer plans this model's variants (see search/plan.py)."""
        return self in (SearchMode.AUTOMATIC, SearchMode.QUICK, SearchMode.OPTUNA)

    @property
    def measures_ahead(self) -> bool:
        """Whether the search measures points of any variant at the model's first item (the hill climb, the
        trials), so that the model's items belong together on one worker."""
        return self in (SearchMode.QUICK, SearchMode.OPTUNA)


@dataclass(frozen=True)
class OptunaSettings:
    """What `run_config_search_mode: optuna` searches and for how many trials (Model Analyzer's
    SearchParameters and OptunaRunConfigGenerator). A tuple left empty is searched over the
    `run_config_search_*` range; a listed one (`model_config_parameters`) over exactly its values."""

    max_batch_sizes: tuple[int, ...] = ()
    instance_counts: tuple[int, ...] = ()
    # run_config_search_min/max_model_batch_size and _instance_count: the ranges of what is not listed
    batch_size_range: tuple[int, int] = (1, 128)
    instance_count_range: tuple[int, int] = (1, 5)
    concurrency_range: tuple[int, int] = (1, 1024)  # run_config_search_min/max_concurrency: clamps the formula
    instance_kind: str = ""  # the listed group's kind; "" for Model Analyzer's (KIND_CPU when cpu_only)
    max_queue_delays: tuple[int, ...] = ()  # dynamic_batching.max_queue_delay_microseconds; empty: not searched
    min_percentage: int = 5  # min/max_percentage_of_search_space
    max_percentage: int = 10
    min_trials: int | None = None  # optuna_min/max_trials, only when the user set them (they override %)
    max_trials: int | None = None
    min_percentage_set: bool = False  # whether the user set the percentage too (then the stricter one wins)
    max_percentage_set: bool = False
    early_exit_threshold: int = 10  # trials without a new best, once the minimum is reached
    concurrency_formula: bool = False  # use_concurrency_formula: 2 x max_batch_size x instances, not searched
    loads_listed: bool = False  # the user listed the loads (searched as a list, not as a doubling range)


@dataclass(frozen=True)
class SearchRanges:
    """The run-wide `run_config_search_*` ranges of the automatic space (Model Analyzer's defaults)."""

    instance_counts: tuple[int, int] = (1, 5)  # run_config_search_min/max_instance_count
    model_batch_sizes: tuple[int, int] = (1, 128)  # run_config_search_min/max_model_batch_size, doubled
    # run_config_search_min/max_concurrency, only where the user set them: quick search clamps its formula
    # load by these and by nothing else (Model Analyzer's rule).
    quick_concurrency_bounds: tuple[int | None, int | None] = (None, None)

    @classmethod
    def from_options(cls, resolved: Mapping[str, Any], explicit: frozenset[str]) -> SearchRanges:
        low, high = "run_config_search_min_concurrency", "run_config_search_max_concurrency"
        return cls(
            instance_counts=(resolved["run_config_search_min_instance_count"],
                             resolved["run_config_search_max_instance_count"]),
            model_batch_sizes=(resolved["run_config_search_min_model_batch_size"],
                               resolved["run_config_search_max_model_batch_size"]),
            quick_concurrency_bounds=(resolved[low] if low in explicit else None,
                                      resolved[high] if high in explicit else None),
        )
