"""Parsers for Model Analyzer's placeholder types: boolean, string, comma-delimited list, int, list, range, dict.

Each parser takes the raw value (from YAML, or a string from the command line) and the key it belongs to,
and returns the normalised value or raises ConfigError naming that key.
"""

from __future__ import annotations

import hashlib
import reprlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.limits import MAX_RANGE, require_at_most
from pytest_model_analyzer.domain.errors import ConfigError

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 3, 4, 4, 40, 40


def describe(value: Any) -> str:
    """A value as an error message shows it: cut short at every level, so that quoting a huge or
    self-repeating value costs nothing (a plain repr() of a billion-laughs value never ends)."""
    text = _SHORT.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(key, f"expected a boolean (true or false), got {describe(value)}")


def parse_str(value: Any, key: str) -> str:
    if isinstance(value, (bool, dict, list)) or value is None:
        raise ConfigError(key, f"expected a string, got {describe(value)}")
    return str(value)


def parse_int(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(key, f"expected an integer, got {describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ConfigError(key, f"expected an integer, got {describe(value)}")


def parse_float(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"expected a number, got {describe(value)}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ConfigError(key, f"expected a number, got {describe(value)}")


def parse_range(value: dict[Any, Any], key: str) -> list[int]:
    """`{start, stop, step}` -> `list(range(start, stop + 1, step))`; step defaults to 1, stop is inclusive."""
    extra = set(value) - {"start", "stop", "step"}
    if extra:
        raise ConfigError(key, f"a range takes only start, stop and step, not {', '.join(sorted(map(str, extra)))}")
    missing = [name for name in ("start", "stop") if name not in value]
    if missing:
        raise ConfigError(key, f"a range needs {' and '.join(missing)}")
    start = parse_int(value["start"], f"{key}.start")
    stop = parse_int(value["stop"], f"{key}.stop")
    step = parse_int(value.get("step", 1), f"{key}.step")
    if step <= 0:
        raise ConfigError(f"{key}.step", f"must be positive, got {step}")
    if start > stop:
        raise ConfigError(key, f"range start {start} is greater than stop {stop}")
    values = range(start, stop + 1, step)
    require_at_most(key, len(values), MAX_RANGE, "values")
    return list(values)


def parse_int_list(value: Any, key: str) -> list[int]:
    """Comma-delimited string, list, range or scalar -> list of ints (Model Analyzer's ConfigListNumeric)."""
    if isinstance(value, dict):
        return parse_range(value, key)
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if any(not part for part in parts):
            raise ConfigError(key, f"empty item in comma-delimited list {describe(value)}")
        return [parse_int(part, key) for part in parts]
    if isinstance(value, list):
        if not value:
            raise ConfigError(key, "the list is empty")
        return [parse_int(item, f"{key}[{index}]") for index, item in enumerate(value)]
    return [parse_int(value, key)]


def parse_positive_int_list(value: Any, key: str) -> list[int]:
    values = parse_int_list(value, key)
    for number in values:
        if number <= 0:
            raise ConfigError(key, f"values must be positive, got {number}")
    return values


def parse_str_list(value: Any, key: str) -> list[str]:
    """Comma-delimited string, list of scalars or scalar -> list of strings (ConfigListString)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [parse_str(item, f"{key}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        raise ConfigError(key, f"expected a list or comma-delimited string, got {describe(value)}")
    return [parse_str(value, key)]


def parse_dict(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, f"expected a mapping of keys to values, got {describe(value)}")
    return {str(name): item for name, item in value.items()}


def parse_str_dict(value: Any, key: str) -> dict[str, str]:
    """A dict whose values are stringified, as Model Analyzer does for server flags and environment."""
    result = {}
    for name, item in parse_dict(value, key).items():
        if isinstance(item, (dict, list)) or item is None:
            raise ConfigError(f"{key}.{name}", f"expected a scalar value, got {describe(item)}")
        result[name] = str(item).lower() if isinstance(item, bool) else str(item)
    return result


Parser = Callable[[Any, str], Any]


def doubled(low: int, high: int) -> list[int]:
    """Model Analyzer's generate_doubled_list: low, 2*low, ... up to high (1 for a low of 0)."""
    values, current = [], max(low, 1)
    while current <= high:
        values.append(current)
        current *= 2
    return values


def read_lines(path: Path, key: str) -> list[str]:
    """The lines of a file a key names (a custom load's intervals, an LLM's prompts): a missing or unreadable
    file is one line naming the key and the path looked at."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(key, f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(key, f"cannot read {path}: {exc}") from None


def files_digest(paths: Sequence[Path]) -> str:
    """16 hex digits of what files hold, in order: a file's name and content, or every file below a directory
    (its name relative to the directory, its content; compiled Python skipped). A path that is neither counts
    by its name alone. What says whether inputs changed: an A/B run's model directories (infra/baseline.py),
    perf_analyzer's input data (config/flags.py). Raises OSError for a file it cannot read."""
    hasher = hashlib.sha256()
    for path in paths:
        if path.is_file():
            hasher.update(f"\0file {path.name}\0".encode())
            _hash_file(hasher, path)
            continue
        hasher.update(f"\0dir {path.name}\0".encode())
        if not path.is_dir():
            continue
        for file in sorted(path.rglob("*")):
            if "__pycache__" in file.parts or file.suffix == ".pyc" or not file.is_file():
                continue
            hasher.update(f"\0{file.relative_to(path).as_posix()}\0".encode())
            _hash_file(hasher, file)
    return hasher.hexdigest()[:16]


def _hash_file(hasher: Any, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
