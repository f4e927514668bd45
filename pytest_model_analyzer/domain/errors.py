"""Every error the plugin raises on purpose derives from `PluginError`: its `str()` is the one message a
user sees (no traceback), and the pytest layer can tell the plugin's errors from bugs with one `except`."""

from __future__ import annotations


class PluginError(Exception):
    """An error the plugin explains in one message."""


class ConfigError(PluginError, ValueError):
    """Invalid profile configuration; `str()` is the one line shown to the user, naming the key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


class MeasurementError(PluginError):
    """A point could not be measured (server, model load or perf_analyzer failure): the item errors."""


class PointSkipped(PluginError):
    """A point that cannot be measured in this mode (e.g. `reload_model_disable`): the item is skipped."""


class GateFailure(PluginError, AssertionError):
    """A measurement violates a gate; the message names the point, metric, value, bound and unit."""
