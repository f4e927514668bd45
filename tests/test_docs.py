"""The documentation a newcomer reads cannot rot: the README's profile is the example suite a test runs, the
configuration reference is the option table, and the site builds in strict mode (a broken link or a page
missing from the navigation fails it), offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pytest_model_analyzer.config.options import OPTIONS
from pytest_model_analyzer.config.reference import reference_markdown
from tests.support import ROOT

README = ROOT / "README.md"


def test_the_readme_is_read_in_five_minutes_and_holds_the_quick_start_profile() -> None:
    text = README.read_text()
    assert len(text.encode()) <= 12 * 1024
    profiles = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    # tests/e2e/test_examples.py runs this suite on the real server.
    assert (ROOT / "example_suites" / "quickstart.yaml").read_text() in profiles


def test_every_profile_fragment_of_the_readme_is_a_valid_profile() -> None:
    """The README's other profile snippets (the SLO gate) are checked like a user's profile would be."""
    import yaml

    from pytest_model_analyzer.config.builder import build_profile
    from tests.support import MODELS

    fragments = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)
                 if "jobs:" not in block and "model_repository" not in block]
    assert fragments, "the README shows no profile fragment"
    for fragment in fragments:
        model = "llm_vllm" if fragment.get("model_type") == "LLM" else "add"  # an LLM fragment needs a text model
        build_profile({"model_repository": str(MODELS), "profile_models": model, **fragment}, cwd=ROOT)


def test_the_llm_example_suite_is_a_valid_profile() -> None:
    """example_suites/llm.yaml as a user runs it (tests/e2e/test_llm.py measures the same models and figures)."""
    import yaml

    from pytest_model_analyzer.config.builder import build_profile

    suite = ROOT / "example_suites" / "llm.yaml"
    profile = build_profile(yaml.safe_load(suite.read_text()), config_dir=suite.parent, cwd=ROOT)
    assert [model.llm is not None and model.llm.streaming for model in profile.models] == [True, True]


def test_the_metrics_reference_is_the_metric_table() -> None:
    from pytest_model_analyzer.config.reference import metrics_markdown

    page = (ROOT / "docs" / "reference" / "metrics.md").read_text()
    assert page == metrics_markdown(), "run: python -m pytest_model_analyzer.config.reference --metrics > " \
                                       "docs/reference/metrics.md"


def test_the_configuration_reference_is_the_option_table() -> None:
    page = (ROOT / "docs" / "reference" / "configuration.md").read_text()
    assert page == reference_markdown(), "run: python -m pytest_model_analyzer.config.reference > " \
                                         "docs/reference/configuration.md"
    for key, option in OPTIONS.items():
        assert f"| `{key}` |" in page
        assert (f"`{option.flag}`" in page) is option.cli


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr
    pages = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("index.html")}
    assert {"index.html", "gates/index.html", "reference/configuration/index.html"} <= pages
    assert (tmp_path / "search" / "search_index.json").exists()  # the site is searchable


CI_RECIPES = ROOT / "docs" / "ci.md"
BASE_REF = ("${{ github.base_ref }}", "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME")


def ci_recipe_commands() -> list[str]:
    """The `pytest` command of each recipe in docs/ci.md (GitHub steps' `run`, GitLab's `script`), with the
    pull request's base branch written as `main`."""
    import yaml

    commands = []
    for block in re.findall(r"```yaml\n(.*?)```", CI_RECIPES.read_text(), flags=re.S):
        recipe = yaml.safe_load(block)
        if "jobs" in recipe:
            lines = [step["run"] for job in recipe["jobs"].values() for step in job["steps"] if "run" in step]
        else:
            lines = [line for job in recipe.values() for line in job["script"]]
        (command,) = [line for line in lines if line.startswith("pytest ")]
        for ref in BASE_REF:
            command = command.replace(ref, "main")
        commands.append(command)
    return commands


def test_the_ci_recipes_parse_and_run_one_command() -> None:
    commands = ci_recipe_commands()
    assert len(commands) == 3 and len(set(commands)) == 1, commands


def test_every_example_of_the_structured_keys_page_is_a_valid_profile() -> None:
    """docs/reference/schemas.md's examples, each built as a user's profile would be (on the `add` model)."""
    import yaml

    from pytest_model_analyzer.config.builder import build_profile
    from tests.support import MODELS

    page = (ROOT / "docs" / "reference" / "schemas.md").read_text()
    examples = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", page, flags=re.S)]
    assert len(examples) == 6
    for example in examples:
        build_profile({"model_repository": str(MODELS), "profile_models": "add", **example}, cwd=ROOT)


# A measured figure in the docs: a decimal with its unit (`1.49x`, `98.7%`, `26.18 s`, `41.2 ms`).
FIGURE = re.compile(r"(?<![\w.\-])(\d+\.\d+)(?:x|%| s\b| ms\b)")


def test_every_figure_beside_its_source_is_found_in_that_source() -> None:
    """A paragraph (or list item) of the docs that names its source, a benchmark (whose figures
    benchmarks/README.md records with their date and machine) or a test, quotes only figures that source holds:
    a figure that only a commit message holds is no source."""
    records = (ROOT / "benchmarks" / "README.md").read_text()
    untraced = []
    for page in sorted([*(ROOT / "docs").rglob("*.md"), README]):
        for part in re.split(r"\n\s*\n|\n(?=- )", page.read_text()):
            benchmarks = re.findall(r"benchmarks/\w+\.py", part)
            tests = [ROOT / name for name in re.findall(r"tests/[\w/]+\.py", part)]
            if not benchmarks and not tests:
                continue
            sources = (records if benchmarks else "") + "".join(test.read_text() for test in tests if test.exists())
            untraced += [f"{page.name}: {match.group(0)}" for match in FIGURE.finditer(part)
                         if match.group(1) not in sources]
    assert not untraced, untraced
