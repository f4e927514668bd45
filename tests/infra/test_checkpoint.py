"""Checkpoint files: index rules, atomic exclusive writes, round trips, and damaged files named clearly."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.domain.identity import digest
from pytest_model_analyzer.domain.latency import LatencySketch
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra import checkpoint as ck
from pytest_model_analyzer.infra.testbed import differences, fingerprint

CONFIG = {"max_batch_size": 8, "instance_group": [{"count": 2, "kind": "KIND_CPU"}]}
EFFECTIVE = {**CONFIG, "name": "add", "backend": "python"}

finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
def _with_config(m: Measurement, config: dict) -> Measurement:
    m.config, m.config_digest = config, digest(config)  # a digest is always its config's
    return m


measurements = st.builds(
    Measurement,
    model=st.sampled_from(["add", "sleep", "resnet50"]),
    variant=st.sampled_from(["m_config_default", "m_config_0", "m_config_1"]),
    batch_size=st.integers(1, 64),
    load_kind=st.sampled_from(["concurrency", "request_rate", "request_intervals"]),
    load=st.integers(1, 1024),
    metrics=st.dictionaries(st.sampled_from(["perf_throughput", "perf_latency_p99", "gpu_used_memory"]), finite),
    parameters=st.sampled_from([{}, {"max_batch_size": 4}]),
    effective_config=st.sampled_from([EFFECTIVE, {}]),
    perf_analyzer_flags=st.sampled_from([{}, {"measurement-interval": "200"}]),
    gpu_metrics=st.dictionaries(st.sampled_from(["GPU-0", "GPU-1"]), st.dictionaries(st.just("gpu_utilization"),
                                                                                         finite)),
    timestamp=finite, duration_s=finite, window_adjusts=st.integers(0, 10),
    composing=st.sampled_from([[], [{"model": "sleep", "variant": "sleep_config_default", "config": {}},
                                    {"model": "add", "variant": "add_config_0", "config": CONFIG}]]),
    # every request's latency, as a measurement keeps it (domain/latency.py)
    latency=st.one_of(st.just({}), st.lists(st.floats(0.01, 1e5), min_size=1, max_size=50).map(
        lambda values: LatencySketch.of(values).to_dict())),
)
measurements = st.builds(_with_config, measurements, st.sampled_from([CONFIG, {}]))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(measurements, max_size=20))
def test_any_measurements_saved_and_loaded_compare_equal(tmp_path: Path, items: list[Measurement]) -> None:
    unique = list({m.setup: m for m in items}.values())
    directory = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    path = ck.CheckpointStore(directory).save(unique)
    assert ck.read(path) == unique


def test_indices_and_names(tmp_path: Path) -> None:
    assert ck.latest_index(tmp_path / "missing") == -1
    for name in ("0.ckpt", "2.ckpt", "10.ckpt", "7.json", "3.ckpt.bak"):
        (tmp_path / name).write_text("{}")
    assert ck.latest_index(tmp_path) == 10
    (tmp_path / "foo.ckpt").write_text("{}")
    with pytest.raises(ck.CheckpointError, match=r"foo\.ckpt: checkpoint names must be whole numbers"):
        ck.latest_index(tmp_path)


def sample(load: int = 1) -> Measurement:
    return Measurement("add", "add_config_0", 1, "concurrency", load, {"perf_throughput": 100.0 + load},
                       config_digest="aaaa", config=CONFIG, effective_config=EFFECTIVE)


def test_a_run_writes_one_new_file_and_keeps_rewriting_it(tmp_path: Path) -> None:
    first = ck.CheckpointStore(tmp_path)
    assert first.save([sample(1)]) == tmp_path / "0.ckpt"
    assert first.save([sample(1), sample(2)]) == tmp_path / "0.ckpt"
    second = ck.CheckpointStore(tmp_path)
    assert set(second.loaded) == {sample(1).setup, sample(2).setup}
    assert second.save([sample(3)]) == tmp_path / "1.ckpt"
    assert len(ck.read(tmp_path / "1.ckpt")) == 3  # the loaded ones and the new one
    assert len(ck.read(tmp_path / "0.ckpt")) == 2  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.ckpt", "1.ckpt"]  # no temporary files left


def test_concurrent_runs_never_share_an_index(tmp_path: Path) -> None:
    stores = [ck.CheckpointStore(tmp_path) for _ in range(8)]
    paths: list[Path] = []
    threads = [threading.Thread(target=lambda s=s, i=i: paths.append(s.save([sample(i)])))
               for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p.name for p in paths) == [f"{i}.ckpt" for i in range(8)]


def test_fresh_ignores_earlier_files_but_never_overwrites_them(tmp_path: Path) -> None:
    ck.CheckpointStore(tmp_path).save([sample(1)])
    fresh = ck.CheckpointStore(tmp_path, fresh=True)
    assert fresh.loaded == {}
    assert fresh.save([sample(2)]) == tmp_path / "1.ckpt"
    assert len(ck.read(tmp_path / "0.ckpt")) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the checkpoint is empty"),
        ('{"format": "pytest-model-analyzer checkpoint", "schema', "not valid JSON, perhaps truncated (line 1"),
        ("not json", "not valid JSON"),
        ('{"ResultManager.results": {}}', "not a pytest-model-analyzer checkpoint (use --ma-import-checkpoint"),
        ('{"format": "pytest-model-analyzer checkpoint", "schema_version": 99, "measurements": []}',
         "schema version 99, newer than this plugin's 3"),
    ],
)
def test_damaged_latest_checkpoint_is_named_and_left_alone(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "4.ckpt"
    path.write_text(content)
    with pytest.raises(ck.CheckpointError) as info:
        ck.CheckpointStore(tmp_path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "--ma-fresh" in str(info.value)
    assert path.read_text() == content


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory_is_a_clear_error_and_the_previous_file_is_intact(tmp_path: Path) -> None:
    store = ck.CheckpointStore(tmp_path)
    store.save([sample(1)])
    store2 = ck.CheckpointStore(tmp_path)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ck.CheckpointError, match=r"cannot write a checkpoint in .*0\.ckpt is intact"):
            store2.save([sample(2)])
    finally:
        tmp_path.chmod(0o700)
    assert len(ck.read(tmp_path / "0.ckpt")) == 1


def test_full_disk_is_a_clear_error_and_the_previous_file_is_intact(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store = ck.CheckpointStore(tmp_path)
    store.save([sample(1)])
    before = (tmp_path / "0.ckpt").read_bytes()

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ck.os, "fsync", no_space)
    with pytest.raises(ck.CheckpointError, match="No space left on device"):
        ck.CheckpointStore(tmp_path).save([sample(2)])
    monkeypatch.undo()
    assert (tmp_path / "0.ckpt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.ckpt"]


def test_configs_are_stored_once(tmp_path: Path) -> None:
    path = ck.CheckpointStore(tmp_path).save([sample(load) for load in range(1, 50)])
    data = json.loads(path.read_text())
    assert len(data["configs"]) == 2  # the requested and the effective config, once each
    assert data["schema_version"] == 3 and data["interrupted"] is False


def test_a_checkpoint_records_its_testbed_and_a_different_one_is_named(tmp_path: Path) -> None:
    store = ck.CheckpointStore(tmp_path)
    store.testbed = fingerprint([])
    path = store.save([sample(1)])
    recorded = ck.read_testbed(path)
    assert recorded["cores"] == str(os.cpu_count()) and recorded["cpu"] and recorded["plugin"]
    assert differences(recorded, fingerprint([])) == []
    other = {**recorded, "cpu": "Another CPU", "gpus": "NVIDIA H100"}
    assert differences(other, recorded) == [f"cpu: Another CPU -> {recorded['cpu']}", "gpus: NVIDIA H100 -> -"]
    assert differences({}, recorded) == []  # a checkpoint from before testbeds were recorded


def test_trials_round_trip(tmp_path: Path) -> None:
    measurement = sample(1).with_trial(sample(1))
    assert measurement.trial_count == 2
    loaded = ck.read(ck.CheckpointStore(tmp_path).save([measurement]))
    assert loaded[0].samples("perf_throughput") == measurement.samples("perf_throughput")


def _valid(tmp_path: Path) -> dict:
    return json.loads(ck.CheckpointStore(tmp_path / "valid").save([sample(1)]).read_text())


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d.update(measurements=["xx"]), "damaged measurement record 0: expected a mapping, got str"),
    (lambda d: d.update(measurements={"a": 1}), "`measurements` a list"),
    (lambda d: d["measurements"][0].update(metrics="fast"), "record 0: `metrics` must be a mapping, got str"),
    (lambda d: d["measurements"][0]["metrics"].update(perf_throughput="fast"), "map each metric to a number"),
    (lambda d: d.update(schema_version="1"), "`schema_version` must be a whole number, got '1'"),
    (lambda d: d["measurements"][0].update(batch_size="1"), "`batch_size` must be a whole number, got str"),
    (lambda d: d["measurements"][0].pop("model"), "`model` is missing"),
    (lambda d: d["measurements"][0].update(config="nope"), "`config` names no stored config"),
    (lambda d: d["measurements"][0].update(latency={"relative_accuracy": 0.01, "offset": 3, "counts": "1,x"}),
     "`latency` must hold `relative_accuracy`, `offset` and `counts`"),
    (lambda d: d["measurements"][0].update(load_kind="qps"), "`load_kind` must be one of concurrency"),
])
def test_a_damaged_record_is_one_clear_error(tmp_path: Path, damage, message: str) -> None:
    data = _valid(tmp_path)
    damage(data)
    path = tmp_path / "0.ckpt"
    path.write_text(json.dumps(data))
    with pytest.raises(ck.CheckpointError, match=re.escape(message)) as error:
        ck.read(path)
    assert str(path) in str(error.value) and "--ma-fresh" in str(error.value)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["model", "variant", "batch_size", "load_kind", "load", "metrics", "config",
                              "effective_config", "parameters", "gpu_metrics", "timestamp", "trials", "requests"]),
       value=JSON)
def test_any_damage_to_a_record_reads_or_is_a_checkpoint_error(tmp_path: Path, field: str, value: object) -> None:
    data = _valid(tmp_path)
    data["measurements"][0][field] = value
    path = tmp_path / "damaged.ckpt"
    path.write_text(json.dumps(data))
    try:
        [measurement] = ck.read(path)
    except ck.CheckpointError:
        return
    measurement.to_json()  # what reports and xdist do with it


def test_a_checkpoint_directory_that_cannot_be_written_is_found_before_measuring(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ck.CheckpointError, match=r"checkpoint_directory: cannot write checkpoints in .*file"):
        ck.check_writable(blocker)
    ck.check_writable(tmp_path / "new" / "dir")  # created
    assert (tmp_path / "new" / "dir").is_dir() and list((tmp_path / "new" / "dir").iterdir()) == []


def test_the_store_reads_any_checkpoint_of_its_directory_and_all_of_them(tmp_path: Path) -> None:
    """One owner of what is on disk: a baseline by index (--ma-compare=N) and the whole history (--ma-history)
    come from the run's store, not from file names built elsewhere."""
    first = ck.CheckpointStore(tmp_path)
    first.save([sample(1)])
    second = ck.CheckpointStore(tmp_path)
    second.save([sample(2)])
    path, measurements, testbed = ck.CheckpointStore(tmp_path).checkpoint(0)
    assert path == tmp_path / "0.ckpt" and [m.load for m in measurements] == [1] and testbed == {}
    assert [(index, sorted(m.load for m in found)) for index, found, _ in ck.CheckpointStore(tmp_path).every()] == [
        (0, [1]), (1, [1, 2])]
    with pytest.raises(ck.CheckpointError, match=r"7\.ckpt does not exist"):
        ck.CheckpointStore(tmp_path).checkpoint(7)
