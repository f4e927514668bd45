"""Every option's value, resolved and checked: command line over YAML over defaults, with paths resolved.

Relative paths written in the YAML are resolved against the YAML file's directory (the pytest way: a suite can
be run from anywhere); those given on the command line against the current directory; defaults against the
current directory (as Model Analyzer does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.names import check_keys
from pytest_model_analyzer.config.options import LAUNCH_MODES, OPTIONS
from pytest_model_analyzer.config.search_settings import SearchStrategy
from pytest_model_analyzer.domain.errors import ConfigError


def _resolve_path(value: str, base: Path) -> str:
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else (base / path))


def _resolve_executable_path(value: str, base: Path) -> str:
    """A bare name (`perf_analyzer`) is looked up on PATH later; a path is resolved like any other."""
    return _resolve_path(value, base) if os.sep in value else value


def resolve_settings(
    raw: Mapping[str, Any], cli: Mapping[str, Any], config_dir: Path, cwd: Path
) -> tuple[dict[str, Any], frozenset[str]]:
    """Every option's value (CLI over YAML over default), parsed; and which were set explicitly."""
    check_keys(raw, OPTIONS, "")
    settings: dict[str, Any] = {}
    for key, option in OPTIONS.items():
        if key in cli:
            value, base = option.parse(cli[key], key), cwd
        elif key in raw and raw[key] is not None:
            value, base = option.parse(raw[key], key), config_dir
        else:
            value, base = option.default, cwd
        if option.path and isinstance(value, str):
            executable = key in ("triton_server_path", "perf_analyzer_path")
            value = (_resolve_executable_path if executable else _resolve_path)(value, base)
        settings[key] = value
    explicit = frozenset(key for key in OPTIONS if key in cli or (key in raw and raw[key] is not None))
    return settings, explicit


def check_output_parents(settings: Mapping[str, Any]) -> None:
    """As Model Analyzer's parent_path_validator: the run creates its checkpoint and export directories, but
    only inside a directory that exists, so a mistyped path is refused before anything is measured instead of
    growing a new tree somewhere unexpected."""
    for key in ("checkpoint_directory", "export_path"):
        parent = os.path.dirname(os.path.abspath(settings[key]))
        if not os.path.isdir(parent):
            raise ConfigError(key, f"the parent directory of {settings[key]} does not exist ({parent})")


def check_modes(settings: Mapping[str, Any]) -> None:
    mode = settings["triton_launch_mode"]
    if mode not in LAUNCH_MODES:
        raise ConfigError("triton_launch_mode", f"must be one of {', '.join(LAUNCH_MODES)}, got `{mode}`")
    if mode == "docker":
        raise ConfigError("triton_launch_mode", "`docker` is not supported yet; use local, remote or c_api")
    if settings["client_protocol"] not in ("grpc", "http"):
        raise ConfigError("client_protocol", f"must be grpc or http, got `{settings['client_protocol']}`")
    if settings["run_config_search_mode"] is SearchStrategy.OPTUNA:
        check_optuna_budget(settings)
    if settings["dcgm_disable"] and mode != "remote":
        raise ConfigError("dcgm_disable", "is only allowed with triton_launch_mode: remote")
    if settings["weighting"] is not None:
        raise ConfigError("weighting", "is a per-model option: set it under profile_models.<model>")
    for name in ("concurrency", "request_rate", "instance_count", "model_batch_size"):
        lo, hi = settings[f"run_config_search_min_{name}"], settings[f"run_config_search_max_{name}"]
        if lo <= 0 or lo > hi:
            raise ConfigError(f"run_config_search_min_{name}", f"must be between 1 and max ({hi}), got {lo}")
    lists = {key: settings[key] for key in ("triton_http_endpoints", "triton_grpc_endpoints", "triton_metrics_urls")
             if settings[key] is not None}
    if lists:
        if mode != "remote":
            raise ConfigError(next(iter(lists)), "endpoint lists are for triton_launch_mode: remote")
        if "triton_http_endpoints" not in lists or "triton_grpc_endpoints" not in lists:
            raise ConfigError(next(iter(lists)), "set both triton_http_endpoints and triton_grpc_endpoints")
        lengths = {key: len(value) for key, value in lists.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError("triton_grpc_endpoints", f"the endpoint lists differ in length: {lengths}")
    if settings["client_max_retries"] <= 0:
        raise ConfigError("client_max_retries", "must be a positive number of seconds (polls a second)")
    if settings["perf_analyzer_timeout"] <= 0:
        raise ConfigError("perf_analyzer_timeout", "must be a positive number of seconds")
    if settings["monitoring_interval"] <= 0:
        raise ConfigError("monitoring_interval", "must be a positive number of seconds")


def check_load_exclusive(concurrency: Any, request_rate: Any, where: str) -> None:
    if concurrency and request_rate:
        raise ConfigError(where, "concurrency and request_rate cannot both be set: choose one load type")


def check_load_conflicts(settings: Mapping[str, Any], explicit: frozenset[str]) -> None:
    """Model Analyzer's `_check_for_concurrency_rate_request_conflicts` and
    `_check_for_config_search_rate_request_conflicts`: a concurrency setting beside a request-rate one is an
    error, not a silent choice."""
    rate_keys = [key for key in ("request_rate_search_enable", "request_rate", "run_config_search_min_request_rate",
                                 "run_config_search_max_request_rate")
                 if key in explicit and settings[key]]
    if not rate_keys:
        return
    if settings["concurrency"] and "concurrency" in explicit:
        raise ConfigError("concurrency", f"cannot be combined with {rate_keys[0]}: choose one load type")
    for key in ("run_config_search_min_concurrency", "run_config_search_max_concurrency"):
        if key in explicit:
            raise ConfigError(key, f"cannot be combined with {rate_keys[0]}: choose one load type")


def check_quick_search(settings: Mapping[str, Any], explicit: frozenset[str]) -> None:
    """Model Analyzer's `_check_for_quick_search_incompatibility`: quick search picks the configs and the
    loads itself, so it refuses a disabled search and global lists of loads or batch sizes."""
    if settings["run_config_search_mode"] is not SearchStrategy.QUICK:
        return
    if settings["run_config_search_disable"]:
        raise ConfigError("run_config_search_disable", "cannot be combined with run_config_search_mode: quick "
                          "(use brute, or enable the search)")
    for key in ("concurrency", "batch_sizes"):
        if key in explicit and settings[key]:
            raise ConfigError(key, "is not supported in quick search, which chooses each configuration's load: "
                              "remove it or use run_config_search_mode: brute")


def check_optuna_budget(settings: Mapping[str, Any]) -> None:
    """The trial budget of optuna search: percentages of the space and trial counts that can be met."""
    for name in ("min_percentage_of_search_space", "max_percentage_of_search_space"):
        if not 0 <= settings[name] <= 100:
            raise ConfigError(name, f"must be a percentage from 0 to 100, got {settings[name]}")
    if settings["min_percentage_of_search_space"] > settings["max_percentage_of_search_space"]:
        raise ConfigError("min_percentage_of_search_space", "must not exceed max_percentage_of_search_space "
                          f"({settings['max_percentage_of_search_space']})")
    for name in ("optuna_min_trials", "optuna_max_trials", "optuna_early_exit_threshold"):
        if settings[name] is not None and settings[name] < 1:
            raise ConfigError(name, f"must be at least 1, got {settings[name]}")


def check_repository(settings: Mapping[str, Any], models: Mapping[str, Any]) -> None:
    repo = settings["model_repository"]
    if repo is None:
        if settings["triton_launch_mode"] == "remote":
            return
        raise ConfigError("model_repository", "is required: the Triton model repository to profile")
    path = Path(repo)
    if not path.is_dir():
        raise ConfigError("model_repository", f"directory not found: {repo}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError("model_repository", f"directory not readable: {repo}")
    for name in models:
        if not (path / name).is_dir():
            available = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise ConfigError(
                f"profile_models.{name}",
                f"model not found in {repo} (available: {', '.join(available) or 'none'})",
            )


def unsupported_warnings(explicit: frozenset[str], settings: Mapping[str, Any]) -> list[str]:
    notes = []
    if settings["triton_launch_mode"] == "c_api":
        # Model Analyzer's c_api mode ignores them too, with a warning: perf_analyzer starts the server itself.
        for key in ("triton_server_flags", "triton_output_path", "triton_server_environment"):
            if key in explicit and settings[key]:
                notes.append(f"`{key}` has no effect with triton_launch_mode: c_api (each perf_analyzer loads "
                             "the server into its own process with its defaults)")
    for key in sorted(explicit):
        option = OPTIONS[key]
        if option.unsupported and settings[key] != option.default:
            notes.append(f"`{key}` is accepted but has no effect: {option.unsupported}")
    return notes
