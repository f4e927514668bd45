"""Each search mode behind one interface, `Search`, registered here by its SearchMode: how the mode plans a
model's variants (at configure time), what it measures ahead of the model's items, and its own reason to
skip a point before the load and batch sweeps' early exits decide (search/driver.py).

Adding a mode (CONTRIBUTING, "Adding a search mode"): a SearchMode member and the rule that chooses it
(config/search_settings.py, `resolve_search`), a Search class in a module of this package, and its entry in
SEARCHES below.
"""

from __future__ import annotations

from pytest_model_analyzer.config.search_settings import SearchMode
from pytest_model_analyzer.search.modes.base import Search
from pytest_model_analyzer.search.modes.brute import AUTOMATIC, LISTED, MANUAL
from pytest_model_analyzer.search.modes.optuna import OPTUNA
from pytest_model_analyzer.search.modes.quick import QUICK

SEARCHES: dict[SearchMode, Search] = {
    SearchMode.DISABLED: LISTED,
    SearchMode.MANUAL: MANUAL,
    SearchMode.AUTOMATIC: AUTOMATIC,
    SearchMode.QUICK: QUICK,
    SearchMode.OPTUNA: OPTUNA,
}
