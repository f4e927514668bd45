"""What every benchmark ends with: aligned lines on stdout and, with --json PATH, the figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def emit(lines: list[tuple[str, str]], figures: dict[str, Any], json_path: Path | None) -> None:
    width = max(len(label) for label, _ in lines) + 2
    for label, value in lines:
        print(f"{label + ':':<{width}}{value}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
