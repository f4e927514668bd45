"""The one error type of the config layer: a message that names the offending key."""

from __future__ import annotations


class ConfigError(ValueError):
    """Invalid profile configuration; `str()` is the one line shown to the user."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)

    def within(self, prefix: str) -> ConfigError:
        """The same error, with its key path placed under `prefix`."""
        return ConfigError(f"{prefix}.{self.key}" if self.key else prefix, self.problem)
