"""The example suites run as they are, from any directory: the quick start (the README shows it whole) and those of
the newer capabilities."""

from __future__ import annotations

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("suite", ["quickstart.yaml", "optuna.yaml", "c_api.yaml"])
def test_an_example_suite_runs_and_writes_its_reports(pytester: pytest.Pytester, suite: str) -> None:
    result = pytester.runpytest_subprocess("--ma-config", str(ROOT / "example_suites" / suite), "-p",
                                           "no:cacheprovider", timeout=300)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 4 and "failed" not in outcomes and "error" not in outcomes
    detailed = sorted(path.name for path in (pytester.path / "reports" / "detailed").iterdir())
    assert detailed and all(name.endswith(".html") for name in detailed)
    assert (pytester.path / "checkpoints" / "0.ckpt").exists()
