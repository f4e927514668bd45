"""The checkpoint keeper on a full disk: the run stops measuring, the earlier checkpoint stays as it was, no
partial file is left, and what the run measured is saved elsewhere or printed, and the message says which."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra import checkpoint as ck
from pytest_model_analyzer.results.ledger import Ledger
from pytest_model_analyzer.results.saving import CheckpointKeeper, JournalKeeper


def sample(load: int) -> Measurement:
    return Measurement("add", "add_config_0", 1, "concurrency", load, {"perf_throughput": 100.0 + load},
                       config_digest="aaaa", config={"max_batch_size": 8})


class Disk:
    """Makes one directory full: no file in it can grow, as on a filled tmpfs (creating an empty file still
    works there, so the journal opens and its first write fails)."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.directory = directory
        self.full = False
        real_write, real_write_temp = os.write, ck._write_temp

        def write(fd: int, data: bytes) -> int:
            if self.full and Path(os.readlink(f"/proc/self/fd/{fd}")).parent == directory:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)

        def write_temp(place: Path, payload: bytes) -> Path:
            if self.full and place == directory:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write_temp(place, payload)

        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(ck, "_write_temp", write_temp)


@pytest.fixture
def setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Disk, Path]]:
    checkpoints = tmp_path / "checkpoints"
    ck.CheckpointStore(checkpoints).save([sample(1)])  # an earlier run's 0.ckpt
    yield checkpoints, Disk(checkpoints, monkeypatch), tmp_path / "results"


def keeper_on(checkpoints: Path, places: list[Path]) -> tuple[CheckpointKeeper, Ledger, list[str]]:
    store = ck.CheckpointStore(checkpoints)
    stops: list[str] = []
    journaling = JournalKeeper.of(store, writes=True, on_cannot_keep=stops.append)
    ledger = Ledger(store.loaded.values(), on_new=journaling.keep)
    keeper = CheckpointKeeper(store, ledger, journaling, rescue_places=places)
    return keeper, ledger, stops


def test_the_run_is_stopped_once_a_measurement_cannot_be_kept(setting) -> None:
    checkpoints, disk, results = setting
    _, ledger, stops = keeper_on(checkpoints, [results])
    ledger.observe(sample(2))
    assert stops == []
    disk.full = True
    ledger.observe(sample(4))
    ledger.observe(sample(8))  # the item in progress may take another trial: asked to stop once
    assert stops == [f"cannot write the journal in {checkpoints}: No space left on device; stopped measuring: "
                     "what is measured now could be lost"]


def test_the_last_save_goes_where_there_is_room_and_says_how_to_resume(setting) -> None:
    checkpoints, disk, results = setting
    before = (checkpoints / "0.ckpt").read_bytes()
    keeper, ledger, _ = keeper_on(checkpoints, [results])
    ledger.observe(sample(2))
    disk.full = True
    ledger.observe(sample(4))
    keeper.save(interrupted=True, final=True)
    [rescued] = results.iterdir()
    assert rescued.name.startswith("unsaved-") and rescued.suffix == ".ckpt"
    assert sorted(m.load for m in ck.read(rescued)) == [1, 2, 4]
    assert keeper.error == (
        f"cannot write a checkpoint in {checkpoints}: No space left on device; the previous checkpoint "
        f"{checkpoints / '0.ckpt'} is intact; this run's 2 new measurements are saved in {rescued} (with the 1 "
        f"it loaded): once there is room, move it to {checkpoints / '1.ckpt'} and the next run resumes from it")
    # Byte for byte as it was, and nothing else: the journal went with the rescue, no temporary file is left.
    assert [path.name for path in checkpoints.iterdir()] == ["0.ckpt"]
    assert (checkpoints / "0.ckpt").read_bytes() == before
    rescued.rename(checkpoints / "1.ckpt")  # as the message says: the next run resumes from it
    assert sorted(m.load for m in ck.CheckpointStore(checkpoints).loaded.values()) == [1, 2, 4]


def test_with_no_room_anywhere_the_measurements_are_printed_and_the_journal_kept(setting) -> None:
    checkpoints, disk, _ = setting
    keeper, ledger, _ = keeper_on(checkpoints, [checkpoints])  # the only other place is the full one
    ledger.observe(sample(2))
    disk.full = True
    ledger.observe(sample(4))
    keeper.save(interrupted=True, final=True)
    assert keeper.journal is not None and keeper.journal.path is not None
    journal = keeper.journal.path
    assert keeper.error.endswith(f"; no other place could take this run's 2 new measurements either: 1 of them are "
                                 f"in the journal {journal}, which the next run recovers; all are printed below, "
                                 "one JSON object per line (the journal's format)")
    assert sorted(Measurement.from_dict(json.loads(line)).load for line in keeper.unsaved_lines) == [2, 4]
    assert [json.loads(line)["load"] for line in journal.read_text().splitlines()] == [2]


def test_an_empty_journal_is_not_left_behind(setting) -> None:
    checkpoints, disk, _ = setting
    keeper, ledger, stops = keeper_on(checkpoints, [])
    disk.full = True
    ledger.observe(sample(2))
    keeper.save(interrupted=True, final=True)
    assert len(stops) == 1 and keeper.error.endswith("either: all are printed below, one JSON object per line "
                                                     "(the journal's format)")
    assert [path.name for path in checkpoints.iterdir()] == ["0.ckpt"]
