"""Writes the run's checkpoint from the ledger: when there is something new, and only from one process."""

from __future__ import annotations

from pathlib import Path

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.checkpoint import CheckpointError, CheckpointStore
from pytest_model_analyzer.infra.journal import Journal
from pytest_model_analyzer.results.ledger import Ledger


class CheckpointKeeper:
    """Saves are cheap to ask for (after each model, on every xdist report, at the end, on Ctrl-C): each
    writes the whole run to its one file, atomically. An error is kept for the summary, never raised.
    Between saves, each new measurement is journaled the moment it is taken (infra/journal.py), so that a
    run killed by SIGKILL loses nothing: the next run recovers it."""

    def __init__(self, store: CheckpointStore | None, ledger: Ledger, writes: bool = True) -> None:
        self.store = store
        self.ledger = ledger
        self.writes = writes  # an xdist worker never writes: its measurements reach the controller
        self.saved_to: Path | None = None
        self.saved_count = 0
        self.error = ""
        self.journal = Journal(store.directory) if store is not None and writes else None

    def keep(self, measurement: Measurement) -> None:
        """A measurement just added to the run: durable now, before the next save."""
        if self.journal is not None:
            self.journal.append(measurement)

    def save(self, interrupted: bool = False, final: bool = False) -> None:
        """`final`: the run's last save; once it succeeds the journal is no longer needed."""
        if self.store is None or not self.writes or self.ledger.new_count == 0:
            return
        try:
            self.saved_to = self.store.save(self.ledger.to_save(), interrupted=interrupted)
            self.saved_count = self.store.saved_count
            self.error = ""
        except CheckpointError as exc:
            self.error = str(exc)
            return
        if final and self.journal is not None:
            self.journal.remove()

    @property
    def loaded_from(self) -> Path | None:
        return self.store.loaded_from if self.store else None
