"""The package reads in layers, bottom to top; an import never runs upward, and only the pytest layer
imports pytest. Checked by walking every module's imports (also those inside functions and TYPE_CHECKING)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_model_analyzer"
# Folder -> layer. Folders on one layer sit beside each other and do not import each other.
LAYERS = {
    "domain": 0,  # pure types: point identity, measurement, metrics, bounds, errors
    "config": 1,  # YAML to a typed profile
    "analysis": 2,  # gates, regression checks, ranking
    "search": 3,  # the automatic search
    "infra": 3,  # server, model control, perf_analyzer, monitor, runtime, checkpoints
    "results": 4,  # the ledger of a run's measurements, the resolver, saving
    "reports": 5,  # tables and files
    "plugin": 6,  # the pytest layer
}
PYTEST_MODULES = ("pytest", "_pytest", "xdist", "pluggy")


def folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "pytest_model_analyzer" and parts[1] in LAYERS else None


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]  # `from package import module`
    return found


def imports_at_load(path: Path) -> list[str]:
    """The imports a module runs when it is imported: its top-level ones, not those inside functions or under
    `if TYPE_CHECKING:`."""
    found = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def _from_root(name: str) -> bool:
    """`pytest_model_analyzer` itself, or a name the root defines (`from pytest_model_analyzer import
    __version__`): the root re-exports from every layer, so importing it from a layer runs upward."""
    parts = name.split(".")
    return parts[0] == "pytest_model_analyzer" and (len(parts) == 1 or parts[1] not in LAYERS)


def layer_of(path: Path) -> str | None:
    """The layer folder a module lives in (also inside a room of its own, such as plugin/xdist/)."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def test_every_module_lives_in_a_layer() -> None:
    strays = [p.relative_to(PACKAGE) for p in MODULES if p.parent != PACKAGE and layer_of(p) not in LAYERS]
    top = [p.name for p in MODULES if p.parent == PACKAGE]
    assert strays == [] and top == ["__init__.py"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_run_downward(path: Path) -> None:
    here = layer_of(path)
    rank = LAYERS[here] if here else -1
    wrong = []
    # The package's root is loaded before every layer (it is each module's parent): what it re-exports for a
    # conftest.py (`from pytest_model_analyzer import Column`) is loaded on first use, never at its import.
    for name in imports(path) if here else imports_at_load(path):
        if here != "plugin" and name.split(".")[0] in PYTEST_MODULES:
            wrong.append(f"{name} (only the pytest layer imports pytest)")
        if here and _from_root(name):
            wrong.append(f"{name} (the package root sits above every layer)")
        there = folder_of(name)
        if there is None or there == here:
            continue
        if LAYERS[there] >= rank:
            wrong.append(f"{name} ({there} is not below {here})")
    assert wrong == []


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The walk itself finds imports inside functions and TYPE_CHECKING blocks."""
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pytest\n"
                      "def f():\n    from pytest_model_analyzer.plugin import session\n")
    assert {"pytest", "pytest_model_analyzer.plugin"} <= set(imports(module))
    module.write_text("from pytest_model_analyzer import __version__\n")
    assert any(_from_root(name) for name in imports(module))


def test_only_the_pytest_layer_defines_pytest_hooks() -> None:
    hooks = [f"{path.relative_to(PACKAGE)}:{node.name}" for path in MODULES if layer_of(path) != "plugin"
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_")]
    assert hooks == []


# The functions that decide a gate, a comparison, a drift or a regression: the pytest layer calls
# analysis/item_verdict.py and reports/adopt.py's drift_findings, which call these; it never calls them itself.
DECISIONS = {"violations", "satisfies", "trials_agree", "drift", "judge", "judge_pairs", "settle", "pair_noise",
             "estimate_noise"}


def test_the_pytest_layer_makes_no_gate_or_drift_decision_itself() -> None:
    found = [f"{path.name}: {name}" for path in MODULES if layer_of(path) == "plugin"
             for name in imports(path) if name.rsplit(".", 1)[-1] in DECISIONS]
    assert found == []


def test_the_work_plan_of_xdist_is_plain_functions() -> None:
    """plugin/xdist/ is xdist's one home; its plan of units and costs decides, so it imports no pytest or xdist
    and is unit-tested without workers (tests/plugin/xdist/test_workload.py)."""
    plan = PACKAGE / "plugin" / "xdist" / "workload.py"
    assert [name for name in imports(plan) if name.split(".")[0] in PYTEST_MODULES] == []
