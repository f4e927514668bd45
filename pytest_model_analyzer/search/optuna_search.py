"""Optuna search: Model Analyzer's OptunaRunConfigGenerator, run with the optuna library's TPE sampler.

The default config is measured first: it is the reference every trial is scored against, and trial 0 with
score 0. Each trial then asks the sampler for a value of every dimension (search/space.py, in Model
Analyzer's order), measures the point they name and tells the sampler its score: Model Analyzer's weighted
comparison with the default (analysis/ranking.score) for a measurement that meets the model's constraints,
and -1 (its NO_MEASUREMENT_SCORE) for one that failed. Unlike Model Analyzer, a measurement that breaks the
constraints also scores -1, so the sampler steers toward configurations that can win.

The budget is Model Analyzer's: at most `max_percentage_of_search_space` % of the space's points
(`optuna_max_trials` instead when the user sets it; when both are set, the smaller), at least
`min_percentage_of_search_space` % (`optuna_min_trials`; when both are set, the larger); after the minimum,
the search stops once `optuna_early_exit_threshold` trials in a row found no new best.

TPE draws at most half the budget at random before its model steers (`startup_trials`; Model Analyzer keeps
optuna's 10, which leaves its default budget almost wholly random). The sampler's seed comes from the model's
name instead of being drawn at random and stored in the checkpoint as Model Analyzer does. The trials depend
only on the seed and the scores, so a resumed run, whose scores come from the checkpoint, asks for the same
trials, and so does a run recovered from the journal of a killed one, which has no seed to keep.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_model_analyzer.config.search_settings import OptunaSettings
from pytest_model_analyzer.search.space import Dimension

NO_MEASUREMENT_SCORE = -1.0


@dataclass(frozen=True)
class TrialBudget:
    minimum: int  # trials before the early exit may stop the search
    maximum: int
    threshold: int  # trials without a new best that stop it


def trial_budget(settings: OptunaSettings, size: int) -> TrialBudget:
    """Model Analyzer's _determine_minimum/maximum_number_of_configs_to_search for a space of `size`."""
    return TrialBudget(
        minimum=_trials(int(size * settings.min_percentage / 100), settings.min_trials, settings.min_percentage_set,
                        stricter=max),
        maximum=_trials(int(size * settings.max_percentage / 100), settings.max_trials, settings.max_percentage_set,
                        stricter=min),
        threshold=settings.early_exit_threshold)


def _trials(by_percentage: int, trials: int | None, percentage_set: bool, stricter: Callable[[int, int], int]) -> int:
    """The percentage's count, the user's trial count instead, or the stricter of both when the user set both."""
    if trials is None:
        return by_percentage
    return stricter(trials, by_percentage) if percentage_set else trials


def startup_trials(budget: TrialBudget) -> int:
    """How many trials TPE draws at random before its model steers: half the budget, at most optuna's default
    of 10. Model Analyzer keeps the default, so with its default budget (11 trials on a 112-point space) all but
    one trial are random; replayed on a real exhaustive sweep over 100 seeds (benchmarks/search_replay.py,
    both side by side), half the budget found a config within 2% of the best in 65% of searches against 41%, with
    the same measurements; from a 20-trial budget up both are the same sampler."""
    return max(1, min(10, budget.maximum // 2))


def seed_for(model: str) -> int:
    """A seed that depends on the model's name alone (see the module's docstring)."""
    return zlib.crc32(model.encode()) % 10_000


@dataclass(frozen=True)
class Trial:
    number: int  # from 1; the default config is trial 0
    values: dict[str, int]  # by dimension name
    score: float


def run_trials(dimensions: list[Dimension], budget: TrialBudget, seed: int,
               evaluate: Callable[[dict[str, int]], float], stop: Callable[[], bool] = lambda: False) -> list[Trial]:
    """The trials of one study, in order. `evaluate` measures the point a trial's values name and scores it."""
    import optuna  # imported here: a profile without optuna search does not pay for the import

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(budget))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trials: list[Trial] = []
    best_number, best_score = 0, 0.0  # the default config
    for number in range(1, budget.maximum + 1):
        if stop():
            break
        trial = study.ask()
        values = {dimension.name: _suggest(trial, dimension) for dimension in dimensions}
        score = evaluate(values)
        trials.append(Trial(number, values, score))
        if score > best_score:
            best_number, best_score = number, score
        if number >= budget.minimum and number - best_number >= budget.threshold:
            break
        study.tell(trial, score)
    return trials


def _suggest(trial: Any, dimension: Dimension) -> int:
    """A listed dimension is a categorical choice among its values; a range is an integer choice over the
    positions of its values (for a doubling range, the exponent, as Model Analyzer draws it)."""
    if dimension.listed:
        return int(trial.suggest_categorical(dimension.name, list(dimension.values)))
    return int(dimension.values[trial.suggest_int(dimension.name, 0, len(dimension.values) - 1)])
