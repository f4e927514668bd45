"""Writes the run's checkpoint from the ledger: when there is something new, and only from one process."""

from __future__ import annotations

from pathlib import Path

from pytest_model_analyzer.infra.checkpoint import CheckpointError, CheckpointStore
from pytest_model_analyzer.results.ledger import Ledger


class CheckpointKeeper:
    """Saves are cheap to ask for (after each model, on every xdist report, at the end, on Ctrl-C): each
    writes the whole run to its one file, atomically. An error is kept for the summary, never raised."""

    def __init__(self, store: CheckpointStore | None, ledger: Ledger, writes: bool = True) -> None:
        self.store = store
        self.ledger = ledger
        self.writes = writes  # an xdist worker never writes: its measurements reach the controller
        self.saved_to: Path | None = None
        self.saved_count = 0
        self.error = ""

    def save(self, interrupted: bool = False) -> None:
        if self.store is None or not self.writes or self.ledger.new_count == 0:
            return
        try:
            self.saved_to = self.store.save(self.ledger.to_save(), interrupted=interrupted)
            self.saved_count = self.store.saved_count
            self.error = ""
        except CheckpointError as exc:
            self.error = str(exc)

    @property
    def loaded_from(self) -> Path | None:
        return self.store.loaded_from if self.store else None
