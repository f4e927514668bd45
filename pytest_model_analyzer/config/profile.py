"""The typed profile: run settings, and one ModelSpec per model to profile. Built by `builder.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.llm import LLMSpec
from pytest_model_analyzer.config.run_settings import RunSettings
from pytest_model_analyzer.config.search_settings import OptunaSettings, SearchMode, SearchRanges
from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.domain.bounds import Bounds
from pytest_model_analyzer.domain.identity import CONCURRENCY, REQUEST_INTERVALS, REQUEST_RATE


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
    objectives: Mapping[str, float]  # weights; fractions for models profiled together (together.py)
    constraints: Mapping[str, Bounds]
    base_config: Mapping[str, Any] = field(default_factory=dict)  # the repository's config.pbtxt, read once
    slo: Mapping[str, float] = field(default_factory=dict)  # per-request bounds in ms (analysis/slo.py)
    # perf_analyzer_flags.request-intervals, resolved: a custom load replaces the load sweep (one point per
    # config and batch size)
    stimulus: str = ""
    # Whether perf_analyzer exports every request (domain/latency.py: the latency sketch, the exact count, the
    # SLO's figures): when an slo needs it, or when the requests are small enough that writing them all costs
    # little (config/model_config.py: EXPORT_VALUES_LIMIT).
    export_requests: bool = True
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
    # model_type: LLM: the model's interface and the requests every point sends (config/llm.py)
    llm: LLMSpec | None = None

    @property
    def searches_itself(self) -> bool:
        """Whether the model has a config of its own to search: not an ensemble (only its composing models'),
        not a combination of models measured together (only theirs)."""
        return not self.is_ensemble and not self.members

    @property
    def loaded_models(self) -> tuple[str, ...]:
        """The models a point of this model loads: an ensemble's or BLS model's composing models and itself, or
        the members of models profiled together (the one place this is written)."""
        return (*(composing.name for composing in self.composing), *(() if self.members else (self.name,)))

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
        if self.stimulus:
            return REQUEST_INTERVALS
        return REQUEST_RATE if self.request_rate else CONCURRENCY

    @property
    def load_values(self) -> tuple[int, ...]:
        if self.stimulus:
            return (0,)
        return self.request_rate or self.concurrency


@dataclass(frozen=True)
class ProfileConfig:
    """What a run measures and how: typed run settings (`run`), the search's ranges, one ModelSpec per model.

    Every layer above `config/` reads these typed fields; the resolved option values stay inside `config/`."""

    run: RunSettings
    models: tuple[ModelSpec, ...]
    search_ranges: SearchRanges = field(default_factory=SearchRanges)
    source: Path | None = None
    explicit: frozenset[str] = frozenset()  # the keys the user set (YAML or command line)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # The global objectives and constraints (shorthands merged): what ranks configs across models
    # (num_top_model_configs), where each model's own ones cannot.
    objectives: Mapping[str, float] = field(default_factory=dict)
    constraints: Mapping[str, Bounds] = field(default_factory=dict)

    def model(self, name: str) -> ModelSpec:
        return next(model for model in self.models if model.name == name)

    def remote_endpoints(self, slot: int | None) -> tuple[str, str, str]:
        """(http, grpc, metrics URL) of the remote server for an xdist worker slot (or the only one)."""
        return self.run.remote_endpoints(slot)

    @property
    def gpu_bound(self) -> bool:
        """Whether some model measures on this machine's GPUs (local mode, or c_api, whose perf_analyzer holds the
        server): then each xdist worker needs a GPU of its own."""
        return self.run.triton_launch_mode in ("local", "c_api") and not all(m.cpu_only for m in self.models)

    @property
    def model_repository(self) -> Path:
        repository = self.run.model_repository
        assert repository is not None, "settings.check_repository requires model_repository"
        return repository
