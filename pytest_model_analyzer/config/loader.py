"""Reads a profile YAML file into a ProfileConfig; every problem becomes one ConfigError line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.limits import MAX_CONFIG_BYTES, MAX_DEPTH, check_document
from pytest_model_analyzer.config.profile import ProfileConfig
from pytest_model_analyzer.domain.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """safe_load that rejects a key written twice in one mapping (YAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(str(key), f"written twice in the same mapping (line {line})")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError("", f"config file {path} is {size:,} bytes; the limit is {MAX_CONFIG_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", f"cannot read config file {path}: {exc}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except RecursionError:
        raise ConfigError("", f"the config is nested more than {MAX_DEPTH} levels deep") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("", f"YAML syntax error{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError("", f"YAML error: {exc}") from None
    check_document(data)
    return data


def load_profile(
    path: Path, cli: Mapping[str, Any] | None = None, cwd: Path | None = None, gpus_available: bool = False
) -> ProfileConfig:
    path = path.resolve()
    raw = read_yaml(path)
    return build_profile(raw, cli=cli, config_dir=path.parent, cwd=cwd, source=path,
                         gpus_available=gpus_available)
