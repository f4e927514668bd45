"""The change to a model's config.pbtxt that adopts the best configuration found, as a unified diff.

Written by the config-drift gate (`--ma-fail-if-not-best`) next to the reports, so that the failure comes with
its fix: `git apply` it, or copy the fields by hand.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.infra.model_directory import to_pbtxt


def adoption_diff(repository: Path, model: str, config: Mapping[str, Any]) -> str:
    """`config` (a point's requested config) as the model's config.pbtxt, against the file as it is."""
    path = repository / model / "config.pbtxt"
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    after = to_pbtxt({**config, "name": model})
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{model}/config.pbtxt", tofile=f"b/{model}/config.pbtxt"))
