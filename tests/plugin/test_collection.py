"""One item per measurement point, with node ids that -k, --collect-only and node-id selection understand."""

from __future__ import annotations

import pytest

from pytest_model_analyzer.config.options import OPTIONS
from tests.support import MODELS

SWEEP = f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      max_batch_size: [4, 8]
  sleep:
    parameters:
      batch_sizes: 1,8
concurrency: [1, 16]
"""


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_collect_only_lists_every_point(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(SWEEP)
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert collected(result) == [
        "profile.yaml::add::add_config_default::b1-c1",
        "profile.yaml::add::add_config_default::b1-c16",
        # add's repository config has max_batch_size 8, like config_1: measured next, it needs no full reload.
        "profile.yaml::add::add_config_1::b1-c1",
        "profile.yaml::add::add_config_1::b1-c16",
        "profile.yaml::add::add_config_0::b1-c1",
        "profile.yaml::add::add_config_0::b1-c16",
        "profile.yaml::sleep::sleep_config_default::b1-c1",
        "profile.yaml::sleep::sleep_config_default::b1-c16",
        "profile.yaml::sleep::sleep_config_default::b8-c1",
        "profile.yaml::sleep::sleep_config_default::b8-c16",
    ]


@pytest.mark.parametrize(
    ("expression", "count"),
    [("add", 6), ("config_1 and c16", 1), ("sleep and b8", 2), ("not config_default", 4), ("b1-c16", 4)],
)
def test_k_selects_by_model_variant_and_point(pytester: pytest.Pytester, write_profile, expression: str,
                                              count: int) -> None:
    write_profile(SWEEP)
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q", "-k", expression)
    assert len(collected(result)) == count
    result.stdout.fnmatch_lines([f"{count}/10 tests collected ({10 - count} deselected)*"])


def test_node_id_selection(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(SWEEP)
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q",
                                "profile.yaml::add::add_config_1")
    assert collected(result) == ["profile.yaml::add::add_config_1::b1-c1", "profile.yaml::add::add_config_1::b1-c16"]


def test_no_test_files_needed_and_others_are_not_collected(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(SWEEP)
    pytester.makepyfile(test_other="def test_x(): pass")
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q")
    assert not any("test_other" in line for line in collected(result))
    # Asked for explicitly, test files run beside the profile.
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q", "test_other.py",
                                "profile.yaml")
    assert "test_other.py::test_x" in collected(result)
    assert len(collected(result)) == 11


def test_ini_option_names_the_profile(pytester: pytest.Pytester, write_profile) -> None:
    pytester.mkdir("suites")
    write_profile(SWEEP, name="suites/perf.yaml")
    pytester.makeini("[pytest]\nma_config = suites/perf.yaml\n")
    result = pytester.runpytest("--collect-only", "-q")
    assert "suites/perf.yaml::add::add_config_0::b1-c1" in collected(result)


def test_command_line_overrides_yaml(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(SWEEP)
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q",
                                "--ma-profile-models=sleep", "--ma-concurrency=2,4", "--ma-batch-sizes=2")
    assert collected(result) == [
        "profile.yaml::sleep::sleep_config_default::b2-c2",
        "profile.yaml::sleep::sleep_config_default::b2-c4",
    ]


def test_request_rate_items(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(f"model_repository: {MODELS}\nprofile_models: add\nrun_config_search_disable: true\n"
                  "request_rate: {start: 16, stop: 48, step: 16}\n")
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q")
    assert [line.rsplit("::", 1)[1] for line in collected(result)] == ["b1-r16", "b1-r32", "b1-r48"]


def test_per_model_options_inherit_global_ones(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(f"""
model_repository: {MODELS}
run_config_search_disable: true
concurrency: 4
perf_analyzer_flags: {{measurement-mode: time_windows, measurement-interval: 100}}
profile_models:
  add: {{}}
  sleep:
    parameters: {{concurrency: 1}}
""")
    from pytest_model_analyzer.config.loader import load_profile

    profile = load_profile(pytester.path / "profile.yaml")
    add, sleep = profile.models
    assert add.concurrency == (4,) and sleep.concurrency == (1,)
    assert add.perf_analyzer_flags == sleep.perf_analyzer_flags == {"measurement-mode": "time_windows",
                                                                    "measurement-interval": "100"}


def test_unsupported_options_are_reported_not_ignored(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(SWEEP + "triton_docker_shm_size: 1g\n")
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*`triton_docker_shm_size` is accepted but has no effect*"])


def test_report_keys_in_a_shared_yaml_are_accepted_and_said_to_be_for_the_report(
        pytester: pytest.Pytester, write_profile) -> None:
    """Model Analyzer reads profile and report keys from one file (its Kubernetes example has one)."""
    write_profile(SWEEP + "report_model_configs: [sleep_config_0]\noutput_formats: [pdf]\n")
    result = pytester.runpytest("--ma-config", "profile.yaml", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*`output_formats` is accepted but has no effect: it is an option of "
                                 "`model-analyzer report`, not of the profile: the detailed reports are HTML*",
                                 "*`report_model_configs` is accepted but has no effect: it is an option of "
                                 "`model-analyzer report`, not of the profile: `pytest --ma-report` reads it*"])


def test_options_are_grouped_in_help_under_headings_a_user_can_scan(pytester: pytest.Pytester) -> None:
    """Each `--ma-*` option under one heading, the headings in HELP_TOPICS' order (profile first)."""
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["model-analyzer: profile:", "*--ma-config=PATH*", "*--ma-batch-sizes=VALUE*",
                                 "model-analyzer: search:", "*--ma-run-config-search-mode=VALUE*",
                                 "model-analyzer: server and perf_analyzer:", "*--ma-triton-launch-mode=VALUE*",
                                 "model-analyzer: monitoring:", "*--ma-gpus=VALUE*",
                                 "model-analyzer: gates and baselines:", "*--ma-compare-fail=SPEC*",
                                 "*--ma-baseline-rev=REV*",
                                 "model-analyzer: checkpoints:", "*--ma-fresh*", "*--ma-checkpoint-directory=VALUE*",
                                 "model-analyzer: reports:", "*--ma-history*", "*--ma-export-path=VALUE*",
                                 "model-analyzer: scale-out (pytest-xdist):", "*--ma-triton-grpc-endpoints=VALUE*"])
    heading, seen = "", {}
    for line in result.stdout.lines:
        if line and not line.startswith(" "):
            heading = line
        elif line.startswith("  --ma-"):
            flag = line.split()[0].split("=")[0]
            assert flag not in seen, f"{flag} under {seen.get(flag)} and {heading}"
            seen[flag] = heading
    assert all(heading.startswith("model-analyzer: ") for heading in seen.values())
    assert {f"--ma-{key.replace('_', '-')}" for key, option in OPTIONS.items() if option.cli} <= set(seen)
