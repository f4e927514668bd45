"""What sets a configuration apart from the repository's config, in words, for the reports' tables."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from pytest_model_analyzer.analysis.regression import config_changes
from pytest_model_analyzer.config.model_config import ModelConfigError, normalise


def distinguishing_fields(base: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """What a configuration changes in the repository's config, in short: `instance_group[0].count 1 -> 2`.
    `config` is a point's requested config, normalised as model_config.normalise does; so is the base here."""
    with contextlib.suppress(ModelConfigError):
        base = normalise(dict(base))
    changes = config_changes(dict(base), dict(config))
    return "; ".join(changes) if changes else "the repository's config"
