"""Key names in messages: the close match to suggest for a misspelt key, and unknown keys as errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_model_analyzer.domain.errors import ConfigError


def suggest(key: str, known: Iterable[str]) -> str:
    candidates = difflib.get_close_matches(key.replace("-", "_"), list(known), n=1, cutoff=0.7)
    return f" (did you mean `{candidates[0]}`?)" if candidates else ""


def check_keys(raw: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    for key in raw:
        if key not in known:
            name = f"{where}.{key}" if where else str(key)
            raise ConfigError(name, f"unknown option{suggest(str(key), known)}")
