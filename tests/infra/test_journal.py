"""The journal: every new measurement durable at once; a killed run's journal becomes a checkpoint."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra import checkpoint as ck
from pytest_model_analyzer.infra.journal import Journal, Recovery, recover


def sample(load: int) -> Measurement:
    return Measurement("add", "add_config_0", 1, "concurrency", load, {"perf_throughput": 100.0 + load},
                       config_digest="aaaa", config={"max_batch_size": 8})


def test_each_measurement_is_a_line_at_once_and_the_journal_goes_with_the_final_save(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(sample(1))
    journal.append(sample(2))
    assert journal.path is not None and journal.path.name.startswith(".journal-")
    lines = journal.path.read_text().splitlines()
    assert [json.loads(line)["load"] for line in lines] == [1, 2]
    assert ck.latest_index(tmp_path) == -1  # a journal is not a checkpoint
    journal.remove()
    assert list(tmp_path.iterdir()) == []


def test_a_dead_runs_journal_becomes_the_next_checkpoint(tmp_path: Path) -> None:
    ck.CheckpointStore(tmp_path).save([sample(1)])  # what the killed run saved before it died: 0.ckpt
    dead = tmp_path / ".journal-123-456.jsonl"
    dead.write_text(json.dumps(sample(2).to_dict()) + "\n" + json.dumps(sample(3).to_dict())[:40])  # torn
    [recovery] = recover(tmp_path)
    assert recovery.measurements == 1 and recovery.checkpoint == tmp_path / "1.ckpt"
    data = json.loads((tmp_path / "1.ckpt").read_text())
    assert sorted(m["load"] for m in data["measurements"]) == [1, 2] and data["interrupted"] is True
    assert not dead.exists()
    assert recover(tmp_path) == []  # once


def test_a_live_runs_journal_is_left_alone(tmp_path: Path) -> None:
    live = Journal(tmp_path)
    live.append(sample(1))
    assert live.path is not None
    assert recover(tmp_path) == []  # its lock is held: the run is alive
    assert live.path.exists() and ck.latest_index(tmp_path) == -1
    assert [r.measurements for r in recover_after_death(live)] == [1]


def test_a_failed_append_leaves_no_torn_line(tmp_path: Path, monkeypatch) -> None:
    """A full disk takes half a line: the journal is cut back to its whole lines, and says why."""
    journal = Journal(tmp_path)
    assert journal.append(sample(1))
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", half_then_full)
    assert not journal.append(sample(2))
    monkeypatch.undo()
    assert journal.path is not None
    assert [json.loads(line)["load"] for line in journal.path.read_text().splitlines()] == [1]
    assert journal.held == 1
    assert journal.error == f"cannot write the journal in {tmp_path}: No space left on device"
    assert journal.append(sample(3))  # room again: it goes on after its last whole line
    assert [r.measurements for r in recover_after_death(journal)] == [2]


def recover_after_death(journal: Journal) -> list[Recovery]:
    """The kernel releases the lock when the process dies; closing the descriptor does the same here."""
    fd = journal._fd
    assert fd is not None
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    journal._fd = None
    return recover(journal.directory)
