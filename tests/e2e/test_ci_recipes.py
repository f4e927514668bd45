"""The CI recipes' command (docs/ci.md) as a job runs it: in a clone whose base branch holds main's models,
against the bundled server; main's version and the change's measured in one run, the change gated."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.e2e.test_compare import set_sleep
from tests.support import MODELS
from tests.test_docs import ci_recipe_commands

pytestmark = pytest.mark.e2e

PROFILE = """\
model_repository: models
run_config_search_disable: true
profile_models: sleep
concurrency: [1]
perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}
"""


def test_the_recipes_command_gates_the_change_against_the_base_branch(pytester: pytest.Pytester) -> None:
    shutil.copytree(MODELS / "sleep", pytester.path / "models" / "sleep")
    (pytester.path / "profile.yaml").write_text(PROFILE)
    git = ["git", "-C", str(pytester.path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "models", "profile.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "main"], check=True)
    subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)  # the fetched base
    set_sleep(pytester.path / "models", 30)  # the pull request: 50% slower
    (command,) = set(ci_recipe_commands())
    argv = shlex.split(command)
    assert argv[0] == "pytest"
    result = pytester.runpytest_subprocess(*argv[1:], "-p", "no:cacheprovider", timeout=240)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*compared with the baseline origin/main*"])
    failures = [case for case in ET.parse(pytester.path / "perf.xml").getroot().iter("testcase")
                if case.find("failure") is not None]
    assert len(failures) == 1 and "perf_throughput -" in (failures[0].find("failure").get("message") or "")
    assert (pytester.path / "reports").is_dir() and (pytester.path / "checkpoints").is_dir()
