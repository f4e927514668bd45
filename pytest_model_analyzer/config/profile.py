"""The typed profile: run settings, and one ModelSpec per model to profile. Built by `builder.py`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.identity import CONCURRENCY, REQUEST_RATE


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
class ComposingModel:
    """A model that an ensemble's steps or a BLS model's code call (Model Analyzer's composing model): searched
    and loaded with the model that calls it, never measured alone."""

    name: str
    base_config: Mapping[str, Any]  # its config.pbtxt, read once
    cpu_only: bool = False  # cpu_only_composing_models: searched with KIND_CPU instances
    # Fields every searched variant keeps (a profiled model's single-valued model_config_parameters); an
    # ensemble's or BLS model's composing models have none.
    fixed_parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cpu_only: bool
    batch_sizes: tuple[int, ...]
    concurrency: tuple[int, ...]
    request_rate: tuple[int, ...]
    variants: tuple[Variant, ...]  # automatic searches: planned by search/plan.py
    perf_analyzer_flags: Mapping[str, Any]  # effective: Model Analyzer's default when none are given
    triton_server_flags: Mapping[str, str]
    triton_server_environment: Mapping[str, str]
    objectives: Mapping[str, int]
    constraints: Mapping[str, Bounds]
    base_config: Mapping[str, Any] = field(default_factory=dict)  # the repository's config.pbtxt, read once
    weighting: int = 1
    search: SearchMode = SearchMode.DISABLED
    fixed_parameters: Mapping[str, Any] = field(default_factory=dict)  # quick: fields every variant sets
    early_exit_loads: bool = False  # stop a load sweep on its plateau
    early_exit_batch: bool = False  # stop a max_batch_size sweep when throughput stops rising
    extra_loads: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # per variant (quick's formula)
    quick_sweep: bool = True  # quick: sweep the load of the top configurations afterwards
    # num_configs_per_model: how many top configurations quick search sweeps the load of, and brute's binary
    # search looks at (besides the default).
    top_configs: int = 3
    binary_search_steps: int = 0  # brute: steps of the load's binary search at the constraint boundary
    optuna: OptunaSettings | None = None  # run_config_search_mode: optuna
    # An ensemble's step models (from its config.pbtxt) or a BLS model's bls_composing_models, in that order;
    # or, for models profiled concurrently, each of them (see `members`).
    composing: tuple[ComposingModel, ...] = ()
    # run_config_profile_models_concurrently_enable: the models measured together, each as the profile gives it;
    # this spec is their combination (Model Analyzer's run config of several models), named `add,sleep`.
    members: tuple[ModelSpec, ...] = ()

    @property
    def searches_itself(self) -> bool:
        """Whether the model has a config of its own to search: not an ensemble (only its composing models'),
        not a combination of models measured together (only theirs)."""
        return not self.is_ensemble and not self.members

    @property
    def is_ensemble(self) -> bool:
        """An ensemble has no config of its own to search: only its composing models' (Model Analyzer's rule)."""
        return self.base_config.get("platform") == "ensemble"

    def loads_for(self, variant: str) -> tuple[int, ...]:
        return tuple(sorted(set(self.load_values) | set(self.extra_loads.get(variant, ()))))

    @property
    def decides_online(self) -> bool:
        """Whether the search decides from earlier measurements which points it measures (early exits)."""
        return self.early_exit_loads or self.early_exit_batch or self.search.measures_ahead

    @property
    def load_kind(self) -> str:
        """`concurrency` or `request_rate`: what the client load values of this model are."""
        return REQUEST_RATE if self.request_rate else CONCURRENCY

    @property
    def load_values(self) -> tuple[int, ...]:
        return self.request_rate or self.concurrency


@dataclass(frozen=True)
class ProfileConfig:
    settings: Mapping[str, Any]
    models: tuple[ModelSpec, ...]
    source: Path | None = None
    explicit: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # The global objectives and constraints (shorthands merged): what ranks configs across models
    # (num_top_model_configs), where each model's own ones cannot.
    objectives: Mapping[str, int] = field(default_factory=dict)
    constraints: Mapping[str, Bounds] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]

    def model(self, name: str) -> ModelSpec:
        return next(model for model in self.models if model.name == name)

    def remote_endpoints(self, slot: int | None) -> tuple[str, str, str]:
        """(http, grpc, metrics URL) of the remote server for an xdist worker slot (or the only one)."""
        s = self.settings
        if s["triton_grpc_endpoints"] is None:
            return s["triton_http_endpoint"], s["triton_grpc_endpoint"], s["triton_metrics_url"]
        index = slot or 0
        metrics = s["triton_metrics_urls"][index] if s["triton_metrics_urls"] else ""
        return s["triton_http_endpoints"][index], s["triton_grpc_endpoints"][index], metrics

    @property
    def gpu_bound(self) -> bool:
        """Whether some model measures on this machine's GPUs (local mode, or c_api, whose perf_analyzer holds the
        server): then each xdist worker needs a GPU of its own."""
        return self.settings["triton_launch_mode"] in ("local", "c_api") and not all(m.cpu_only for m in self.models)

    @property
    def model_repository(self) -> Path:
        return Path(self.settings["model_repository"])
