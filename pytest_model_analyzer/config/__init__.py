"""Model Analyzer-style profile configuration: parsing, validation, expansion. No pytest, no subprocess."""

from pytest_model_analyzer.config.errors import ConfigError

__all__ = ["ConfigError"]
