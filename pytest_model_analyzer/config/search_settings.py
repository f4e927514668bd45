"""What the automatic search may try: its mode, its ranges, optuna's budget. Built by `builder.py` from the
`run_config_search_*` and `optuna_*` keys; read by `search/`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.variants import Variant, make_variants
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


def resolve_search(name: str, raw: Mapping[str, Any], settings: Mapping[str, Any], where: str,
                   user_loads: bool, base_config: Mapping[str, Any], has_composing: bool = False,
                   explicit: frozenset[str] = frozenset()) -> tuple[SearchMode, list[Variant], dict[str, Any]]:
    """(search mode, the listed variants, the fields an automatic search keeps fixed) of one model.

    The variants of an automatic search are planned later, by the search layer. A model with composing models
    is searched with quick search, as Model Analyzer does (even when brute is the mode: its default)."""
    key = f"{where}.model_config_parameters"
    parameters = raw.get("model_config_parameters")
    mode = settings["run_config_search_mode"]
    if settings["run_config_search_disable"]:
        return SearchMode.DISABLED, make_variants(name, parameters, key, base_config), {}
    if has_composing:
        if settings["triton_launch_mode"] == "c_api":
            raise ConfigError("triton_launch_mode", f"`{name}` has composing models, which c_api mode does not "
                              "load yet: use local or remote")
        if mode is SearchStrategy.OPTUNA:
            raise ConfigError("run_config_search_mode", f"optuna search over the composing models of `{name}` is "
                              "not supported yet: use quick (Model Analyzer's search for them)")
        if mode is SearchStrategy.BRUTE and "run_config_search_mode" in explicit \
                and base_config.get("platform") != "ensemble":
            raise ConfigError("run_config_search_mode", f"`{name}` is a BLS model, which Model Analyzer searches "
                              "with quick search only: use quick, or leave the mode unset")
        mode = SearchStrategy.QUICK
    if mode is SearchStrategy.BRUTE and parameters:
        return SearchMode.MANUAL, make_variants(name, parameters, key, base_config), {}
    if mode is SearchStrategy.OPTUNA:
        return SearchMode.OPTUNA, make_variants(name, None, key), {}
    if mode is not SearchStrategy.QUICK:
        return SearchMode.AUTOMATIC, make_variants(name, None, key), {}
    if user_loads:
        raise ConfigError("concurrency", "quick search chooses the load of each configuration: leave "
                          "concurrency/request_rate unset (or use run_config_search_mode: brute)")
    combos = make_variants(name, parameters, key, base_config)[1:]
    if len(combos) > 1:
        raise ConfigError(key, "quick search takes model_config_parameters with one value each (it searches "
                          "max_batch_size and instance_group itself)")
    fixed = dict(combos[0].parameters) if combos else {}
    for field_name in ("max_batch_size", "instance_group"):
        if field_name in fixed:
            raise ConfigError(f"{key}.{field_name}", "quick search searches this field itself")
    return SearchMode.QUICK, make_variants(name, None, key), fixed


def optuna_settings(name: str, parameters: Any, settings: Mapping[str, Any], explicit: frozenset[str], where: str,
                     base_config: Mapping[str, Any], user_loads: bool) -> tuple[OptunaSettings, dict[str, Any]]:
    """What optuna searches (Model Analyzer's SearchParameters) and the fields every variant keeps.

    `max_batch_size`, the instance group's `count` and `dynamic_batching.max_queue_delay_microseconds` may
    list the values to search; any other field of `model_config_parameters` takes one value, set in every
    variant (Model Analyzer's optuna drops them silently)."""
    key = f"{where}.model_config_parameters"
    rest = dict(v.parse_dict(parameters, key))
    sizes: tuple[int, ...] = ()
    if rest.get("max_batch_size") is not None:
        sizes = tuple(v.parse_positive_int_list(rest.pop("max_batch_size"), f"{key}.max_batch_size"))
    counts: tuple[int, ...] = ()
    kind = ""
    if rest.get("instance_group") is not None:
        group = rest.pop("instance_group")
        while isinstance(group, list) and len(group) == 1:
            group = group[0]  # Model Analyzer reads `instance_group[0][0].count`
        if not isinstance(group, dict) or "count" not in group or set(group) - {"count", "kind"}:
            raise ConfigError(f"{key}.instance_group", "optuna search takes one instance group with `count` "
                              "(the counts to search) and optionally `kind`")
        counts = tuple(v.parse_positive_int_list(group["count"], f"{key}.instance_group.count"))
        kind = v.parse_str(group.get("kind", ""), f"{key}.instance_group.kind")
        if kind not in ("", "KIND_CPU", "KIND_GPU"):
            raise ConfigError(f"{key}.instance_group.kind", f"must be KIND_CPU or KIND_GPU, got `{kind}`")
    delays: tuple[int, ...] = ()
    batching = rest.get("dynamic_batching")
    if isinstance(batching, dict) and batching.get("max_queue_delay_microseconds") is not None:
        batching = dict(batching)
        delays = tuple(v.parse_int_list(batching.pop("max_queue_delay_microseconds"),
                                        f"{key}.dynamic_batching.max_queue_delay_microseconds"))
        rest["dynamic_batching"] = batching
    combos = make_variants(name, rest, key, base_config)[1:]
    if len(combos) > 1:
        raise ConfigError(key, "optuna search searches max_batch_size, the instance group's count and "
                          "dynamic_batching.max_queue_delay_microseconds; any other field takes one value")
    return OptunaSettings(
        max_batch_sizes=sizes,
        instance_counts=counts,
        instance_kind=kind,
        max_queue_delays=delays,
        batch_size_range=(settings["run_config_search_min_model_batch_size"],
                          settings["run_config_search_max_model_batch_size"]),
        instance_count_range=(settings["run_config_search_min_instance_count"],
                              settings["run_config_search_max_instance_count"]),
        concurrency_range=(settings["run_config_search_min_concurrency"],
                           settings["run_config_search_max_concurrency"]),
        min_percentage=settings["min_percentage_of_search_space"],
        max_percentage=settings["max_percentage_of_search_space"],
        min_trials=settings["optuna_min_trials"] if "optuna_min_trials" in explicit else None,
        max_trials=settings["optuna_max_trials"] if "optuna_max_trials" in explicit else None,
        min_percentage_set="min_percentage_of_search_space" in explicit,
        max_percentage_set="max_percentage_of_search_space" in explicit,
        early_exit_threshold=settings["optuna_early_exit_threshold"],
        concurrency_formula=settings["use_concurrency_formula"],
        loads_listed=user_loads,
    ), (dict(combos[0].parameters) if combos else {})
