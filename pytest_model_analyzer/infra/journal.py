"""Nothing measured is lost, whatever kills the run: an append-only journal beside the checkpoints.

Each measurement a run adds is appended to the run's journal, `<checkpoint_directory>/.journal-<pid>-<ns>.jsonl`,
one JSON line, fsynced: a cost per measurement that stays flat as a sweep grows (rewriting the growing
checkpoint after every point would be quadratic). The run holds an exclusive lock on its journal, which the
kernel releases when the process dies, also by SIGKILL. When the run has written its checkpoint at the end,
it removes its journal.

The next run on the directory recovers every journal whose lock it can take (its writer is dead): the
measurements are written, merged with the latest checkpoint, as the next `N.ckpt` (marked interrupted: it
is the checkpoint the killed run did not get to write), and the journal is removed. A torn last line (the
process died while writing it) is skipped. The index rules stay: one new file per run that has new data.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.checkpoint import CheckpointError, CheckpointStore

PREFIX = ".journal-"
SUFFIX = ".jsonl"


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path: Path | None = None
        self._fd: int | None = None
        self.error = ""  # why the journal could not be written; measuring goes on, the checkpoint still saves

    def append(self, measurement: Measurement) -> None:
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            os.write(self._fd, (json.dumps(measurement.to_dict(), separators=(",", ":")) + "\n").encode())
            os.fsync(self._fd)
        except OSError as exc:
            self.error = f"cannot write the journal in {self.directory}: {exc.strerror or exc}"

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{PREFIX}{os.getpid()}-{time.time_ns()}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path, self._fd = path, fd

    def remove(self) -> None:
        """The checkpoint holds everything: the journal is no longer needed."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if self.path is not None:
                    self.path.unlink()
                os.close(self._fd)
            self._fd, self.path = None, None


@dataclass(frozen=True)
class Recovery:
    journal: Path
    measurements: int
    checkpoint: Path


def _read(path: Path) -> list[Measurement]:
    measurements = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            measurements.append(Measurement.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue  # a torn last line, written while the process died
    return measurements


def recover(directory: Path) -> list[Recovery]:
    """Turn the journals of dead runs into checkpoints; journals of live runs (locked) are left alone."""
    if not directory.is_dir():
        return []
    done = []
    for path in sorted(directory.glob(f"{PREFIX}*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # removed meanwhile by its run, or by another run recovering it
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its run is alive
            measurements = _read(path)
            if measurements:
                store = CheckpointStore(directory)
                try:
                    checkpoint = store.save(measurements, interrupted=True)
                except CheckpointError:
                    continue  # keep the journal: a later run may be able to write
                done.append(Recovery(path, len(measurements), checkpoint))
            with contextlib.suppress(OSError):
                path.unlink()
        finally:
            os.close(fd)
    return done
