"""Checkpoints with the real server: written once per run, resumed, imported from Model Analyzer."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from tritonclient.grpc import model_config_pb2

from pytest_model_analyzer.config.model_config import read_model_config
from tests.support import MODELS

pytestmark = pytest.mark.e2e

FLAGS = "perf_analyzer_flags: {measurement-mode: time_windows, measurement-interval: 200, stability-percentage: 20}\n"


def profile(models: str) -> str:
    return f"model_repository: {MODELS}\nrun_config_search_disable: true\nprofile_models: {models}\n" \
           f"concurrency: 1\n{FLAGS}"


def stored(path: Path) -> list[tuple[str, str]]:
    data = json.loads(path.read_text())
    return sorted((m["model"], m["variant"]) for m in data["measurements"])


def test_write_resume_extend_and_fresh(run_profile, pytester: pytest.Pytester) -> None:
    checkpoints = pytester.path / "checkpoints"
    first = run_profile(profile("add"))
    assert first.result.ret == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == ["0.ckpt"]
    assert stored(checkpoints / "0.ckpt") == [("add", "add_config_default")]
    first.result.stdout.fnmatch_lines(["model-analyzer: saved 1 measurements (1 new) to *0.ckpt"])

    # Nothing new: nothing measured (no server started), nothing written.
    again = run_profile(profile("add"), "-v")
    assert again.result.ret == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == ["0.ckpt"]
    again.result.stdout.fnmatch_lines(["*add_config_default::b1-c1 PASSED (from 0.ckpt: * infer/s*",
                                       "model-analyzer: nothing new to save (latest: *0.ckpt)",
                                       "model-analyzer: 1 measurements taken from 0.ckpt, not measured again"])
    assert "starting" not in (pytester.path / "junit.xml").read_text()
    assert again.items[0].measurement == first.items[0].measurement

    # A new model: only it is measured, and 1.ckpt holds both.
    extended = run_profile(profile("add,sleep"))
    assert extended.result.ret == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == ["0.ckpt", "1.ckpt"]
    assert stored(checkpoints / "1.ckpt") == [("add", "add_config_default"), ("sleep", "sleep_config_default")]
    assert extended.by_name("add")[0].properties.get("ma_from") == "0.ckpt"
    assert "ma_from" not in extended.by_name("sleep")[0].properties

    # --ma-fresh measures again and leaves the old files as they were.
    before = (checkpoints / "1.ckpt").read_bytes()
    fresh = run_profile(profile("add"), "--ma-fresh")
    assert fresh.result.ret == 0
    assert stored(checkpoints / "2.ckpt") == [("add", "add_config_default")]
    assert (checkpoints / "1.ckpt").read_bytes() == before
    assert "ma_from" not in fresh.items[0].properties


def test_damaged_latest_checkpoint_is_a_usage_error(pytester: pytest.Pytester, write_profile) -> None:
    write_profile(profile("add"))
    (pytester.path / "checkpoints").mkdir()
    damaged = pytester.path / "checkpoints" / "3.ckpt"
    damaged.write_text('{"format": "pytest-model-analyzer checkpoint", "measurements": [')
    result = pytester.runpytest("--ma-config", "profile.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *3.ckpt: not valid JSON, perhaps truncated*--ma-fresh*"])
    assert damaged.read_text().endswith("[")
    assert sorted(p.name for p in damaged.parent.iterdir()) == ["3.ckpt"]


def camel_config(model: str, name: str) -> dict:
    """The repository's config of `model` as Model Analyzer stores it: protobuf JSON (camelCase), named `name`."""
    config = json_format.MessageToDict(json_format.ParseDict(read_model_config(MODELS, model),
                                                             model_config_pb2.ModelConfig()))
    return {**config, "name": name}


def model_analyzer_checkpoint(path: Path, throughput: float, model: str = "add",
                              composing: tuple[str, ...] = ()) -> None:
    """A Model Analyzer 1.58 checkpoint (the layout in the inventory) for a model's default config at b1/c1;
    an ensemble's or BLS model's with its composing models' default configs (`_composing_config_variants`)."""
    variant = f"{model}_config_default"
    records = [["perf_throughput", {"_value": throughput, "_timestamp": 0}],
               ["perf_latency_p99", {"_value": 0.5, "_timestamp": 0}]]
    run_config = {"_triton_env": {}, "_model_run_configs": [{
        "_model_name": model,
        "_model_config_variant": {"model_config": camel_config(model, variant), "variant_name": variant,
                                  "cpu_only": True},
        "_perf_config": {"_args": {"concurrency-range": 1, "measurement-mode": "count_windows",
                                   "measurement-interval": None}, "_options": {"-b": 1}},
        "_composing_config_variants": [{"model_config": camel_config(name, name), "variant_name":
                                        f"{name}_config_default", "cpu_only": True} for name in composing]}]}
    rcm = {"_model_variants_name": variant, "_gpu_data": {}, "_avg_gpu_data": [],
           "_model_config_measurements": [{"_model_config_name": variant,
                                           "_model_specific_pa_params": {"batch-size": 1, "concurrency-range": 1},
                                           "_non_gpu_data": records}]}
    path.write_text(json.dumps({"ResultManager.results": {"_results": {model: {variant: [
        run_config, {f"{variant} -m {model} -b 1 --concurrency-range=1": rcm}]}}}}))


def test_a_model_analyzer_ensemble_checkpoint_is_resumed_with_its_composing_configs(
        run_profile, pytester: pytest.Pytester) -> None:
    """An ensemble's point is its composing models' configs too: Model Analyzer's measurement of the ensemble
    with the repository's configs is the plugin's point, reused and not measured again."""
    model_analyzer_checkpoint(pytester.path / "ma.ckpt", throughput=77.0, model="add_sleep",
                              composing=("add", "sleep"))
    body = f"model_repository: {MODELS}\nrun_config_search_disable: true\nprofile_models: add_sleep\nconcurrency: 1\n"
    run = run_profile(body, "--ma-import-checkpoint", str(pytester.path / "ma.ckpt"))
    [item] = run.items
    assert item.properties.get("ma_from") == "model-analyzer:ma.ckpt", run.result.stdout.str()
    assert item.measurement["metrics"]["perf_throughput"] == 77.0
    assert [(c["model"], c["variant"]) for c in item.measurement["composing"]] == [
        ("add", "add_config_default"), ("sleep", "sleep_config_default")]


def test_model_analyzer_checkpoint_is_resumed_and_gated(run_profile, pytester: pytest.Pytester) -> None:
    model_analyzer_checkpoint(pytester.path / "ma.ckpt", throughput=123.0)
    body = f"model_repository: {MODELS}\nrun_config_search_disable: true\nprofile_models: add\nconcurrency: 1\n" \
           "constraints: {perf_throughput: {min: 200}}\n"
    run = run_profile(body, "--ma-import-checkpoint", str(pytester.path / "ma.ckpt"))
    item = run.items[0]
    assert item.properties["ma_from"] == "model-analyzer:ma.ckpt"
    assert item.measurement["metrics"]["perf_throughput"] == 123.0  # not measured again
    assert item.outcome == "failed"
    assert "perf_throughput = 123 infer/sec < min 200 infer/sec" in item.message
    assert stored(pytester.path / "checkpoints" / "0.ckpt") == [("add", "add_config_default")]


def test_history_marks_an_injected_shift_and_a_testbed_change(run_profile, pytester: pytest.Pytester) -> None:
    """--ma-history over six checkpoints: one real run, five more made from it with 1% jitter, throughput
    40% lower from checkpoint 3 on, and checkpoint 5 on another CPU. No server is started."""
    import random

    from tests.support import open_in_chromium

    body = profile("add") + "concurrency: [1, 2]\n"
    body = body.replace("concurrency: 1\n", "")
    assert run_profile(body).result.ret == 0
    checkpoints = pytester.path / "checkpoints"
    original = json.loads((checkpoints / "0.ckpt").read_text())
    rng = random.Random(5)
    for index in range(1, 6):
        data = json.loads(json.dumps(original))
        for m in data["measurements"]:
            m["timestamp"] += 3600 * index
            m["metrics"]["perf_throughput"] *= (0.6 if index >= 3 else 1.0) * (1 + rng.uniform(-0.01, 0.01))
        if index == 5:
            data["testbed"]["cpu"] = "Another CPU"
        (checkpoints / f"{index}.ckpt").write_text(json.dumps(data))
    result = pytester.runpytest_subprocess("--ma-config", "profile.yaml", "--ma-history", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines([
        "model-analyzer: history of 6 checkpoints in *checkpoints: * series, 2 with a persistent shift",
        *(f"model-analyzer:   add / add_config_default (batch 1, concurrency {load}): perf_throughput "
          "-[34][09].?% from checkpoint 3" for load in (1, 2)),
    ])
    assert "tritonserver" not in result.stdout.str() and "PASSED" not in result.stdout.str()
    table = (pytester.path / "reports" / "history.csv").read_text().splitlines()
    throughput = [row.split(",") for row in table if ",perf_throughput," in row]
    assert len(throughput) == 12  # two points x six runs
    assert {row[6] for row in throughput if row[9] == "yes"} == {"3"}  # where the shift starts
    assert {row[6] for row in throughput if row[10] == "yes"} == {"5"}  # the run on another testbed
    page = pytester.path / "reports" / "history.html"
    dom, shot, blank = open_in_chromium(page, pytester.path)
    assert 'data-errors="0"' in dom
    series = len({tuple(row.split(",")[:6]) for row in table[1:]})
    assert dom.count("<svg") == series  # one plot per point and metric
    assert dom.count('class="change-point"') == 2  # the two throughput series
    assert dom.count('r="3.5"') == len(table) - 1  # every run of every series
    assert "add / add_config_default (batch 1, concurrency 2): perf_throughput" in dom
    assert shot.stat().st_size > 5 * blank.stat().st_size


@pytest.fixture
def small_disk(pytester: pytest.Pytester) -> Iterator[Path]:
    """The run's checkpoint directory on a 256 KiB tmpfs (root may mount one; elsewhere the test skips)."""
    mount = pytester.path / "checkpoints"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


FILL_AFTER_FIRST_ITEM = """
import contextlib
from pathlib import Path


def pytest_runtest_logreport(report):
    # The disk fills while the run measures: after its first item.
    filler = Path("checkpoints") / "filler"
    if report.when == "teardown" and not filler.exists():
        with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:  # unbuffered: the write that finds the disk full raises here
                handle.write(b"\\0" * 4096)
"""


def test_a_full_disk_stops_the_run_and_loses_nothing(run_profile, small_disk: Path,
                                                     pytester: pytest.Pytester) -> None:
    first = run_profile(profile("add"))
    assert first.result.ret == 0
    before = (small_disk / "0.ckpt").read_bytes()

    # Six new points; the disk fills after the first. The journal's page may hold a line or two more; the first
    # measurement it cannot take stops the run after its item.
    pytester.makeconftest(FILL_AFTER_FIRST_ITEM)
    sweep = profile("add").replace("concurrency: 1", "concurrency: [2, 4, 8]\nbatch_sizes: [1, 2]")
    full = run_profile(sweep)
    assert full.result.ret == pytest.ExitCode.INTERRUPTED, full.result.stdout.str()
    taken = len(full.items)
    assert 2 <= taken < 6 and {item.outcome for item in full.items} == {"passed"}
    full.result.stdout.fnmatch_lines([
        f"*Interrupted: model-analyzer: cannot write the journal in {small_disk}: No space left on device; "
        "stopped measuring: what is measured now could be lost*"])
    rescued = next(pytester.path.glob("unsaved-*.ckpt"))  # export_path: the profile's directory
    full.result.stdout.fnmatch_lines([
        f"model-analyzer: cannot write a checkpoint in {small_disk}: No space left on device; the previous "
        f"checkpoint {small_disk / '0.ckpt'} is intact; this run's {taken} new measurements are saved in {rescued} "
        f"(with the 1 it loaded): once there is room, move it to {small_disk / '1.ckpt'} and the next run resumes "
        "from it"])
    assert (small_disk / "0.ckpt").read_bytes() == before
    assert sorted(path.name for path in small_disk.iterdir()) == ["0.ckpt", "filler"]  # no journal, no temp file

    # Full again (the removed journal freed its pages): the next run refuses before it measures anything.
    with (small_disk / "filler").open("ab", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    refused = run_profile(sweep)
    assert refused.result.ret == pytest.ExitCode.USAGE_ERROR
    refused.result.stderr.fnmatch_lines([f"ERROR: checkpoint_directory: cannot write checkpoints in {small_disk} "
                                         "(No space left on device); nothing was measured"])

    # Room again, the rescued file moved in as the message said: the sweep measures only what it lacks.
    (small_disk / "filler").unlink()
    (pytester.path / "conftest.py").unlink()
    shutil.move(rescued, small_disk / "1.ckpt")
    resumed = run_profile(sweep)
    assert resumed.result.ret == 0
    assert [item.properties.get("ma_from") for item in resumed.items].count("1.ckpt") == taken
    assert len(resumed.items) == 6
    assert len(stored(small_disk / "2.ckpt")) == 7  # the first run's point and the sweep's six
