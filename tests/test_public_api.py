"""What a conftest.py that extends the plugin imports comes from the package itself, typed."""

from __future__ import annotations

import pytest

import pytest_model_analyzer
from pytest_model_analyzer.domain import errors
from pytest_model_analyzer.reports.columns import Column


def test_a_conftest_imports_what_it_uses_from_the_package() -> None:
    from pytest_model_analyzer import Column as Exported
    from pytest_model_analyzer import ConfigError, Measurement, Point, PointId  # noqa: F401

    assert Exported is Column and ConfigError is errors.ConfigError
    assert set(pytest_model_analyzer.__all__) == set(pytest_model_analyzer._PUBLIC)
    for name in set(pytest_model_analyzer._PUBLIC) - {"__version__"}:
        assert getattr(pytest_model_analyzer, name).__name__ == name
    assert pytest_model_analyzer.__version__.count(".") == 2  # read from domain/version.py on first use
    with pytest.raises(AttributeError, match="no attribute 'Colum'"):
        pytest_model_analyzer.Colum  # noqa: B018
