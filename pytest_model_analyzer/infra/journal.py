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
import errno
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
        self._length = 0  # the bytes of whole lines written: where a failed append is cut back to
        self.held = 0  # the measurements the journal holds, each a whole line
        self.error = ""  # why the last append failed (a full disk): the run cannot keep what it measures

    def append(self, measurement: Measurement) -> bool:
        """True when the measurement is on disk. A failed append leaves no torn line: the file is cut back to
        its whole lines (which frees space, so it works on a full disk too)."""
        line = (json.dumps(measurement.to_dict(), separators=(",", ":")) + "\n").encode()
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(self._fd)
        except OSError as exc:
            self.error = f"cannot write the journal in {self.directory}: {exc.strerror or exc}"
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._length)
            return False
        self._length += len(line)
        self.held += 1
        return True

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{PREFIX}{os.getpid()}-{time.time_ns()}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.path, self._fd = path, fd

    def remove(self) -> None:
        """A checkpoint holds everything, or the journal holds nothing: it is no longer needed."""
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
