"""The profile YAML as a typed, validated ProfileConfig: the option table, placeholder parsers, variants,
the model repository's configs and the measurement points. No pytest, no subprocess, no server."""

from pytest_model_analyzer.domain.errors import ConfigError

__all__ = ["ConfigError"]
