"""Writes the run's checkpoint from the ledger: when there is something new, and only from one process; and
when the checkpoint directory cannot keep what the run measures (a full disk), stops the run and saves its
measurements where there is room, or prints them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.checkpoint import SUFFIX, CheckpointError, CheckpointStore
from pytest_model_analyzer.infra.journal import Journal
from pytest_model_analyzer.results.ledger import Ledger


class JournalKeeper:
    """Each new measurement is journaled the moment it is taken (infra/journal.py; the ledger's `on_new`), so
    that a run killed by SIGKILL loses nothing: the next run recovers it. A measurement the journal cannot take
    (the disk is full) is one the run could lose: measuring more would only add to that, so the run is asked to
    stop (`on_cannot_keep`), once."""

    def __init__(self, journal: Journal | None, on_cannot_keep: Callable[[str], None]) -> None:
        self.journal = journal  # None: nothing to journal (no checkpoint directory, an xdist worker)
        self.on_cannot_keep = on_cannot_keep
        self.cannot_keep = ""  # why a measurement could not be journaled; the run stops measuring

    @classmethod
    def of(cls, store: CheckpointStore | None, writes: bool,
           on_cannot_keep: Callable[[str], None]) -> JournalKeeper:
        """The journal beside the checkpoints of a process that writes them."""
        return cls(Journal(store.directory) if store is not None and writes else None, on_cannot_keep)

    def keep(self, measurement: Measurement) -> None:
        """A measurement just added to the run: durable now, before the next save."""
        if self.journal is None or self.journal.append(measurement) or self.cannot_keep:
            return
        self.cannot_keep = f"{self.journal.error}; stopped measuring: what is measured now could be lost"
        self.on_cannot_keep(self.cannot_keep)


class CheckpointKeeper:
    """Saves are cheap to ask for (after each model, on every xdist report, at the end, on Ctrl-C): each
    writes the whole run to its one file, atomically. An error is kept for the summary, never raised.
    Between saves the journal keeps each new measurement (`JournalKeeper`); a successful last save removes it.

    The run's last save goes, if the checkpoint directory cannot take it, to the first of `rescue_places` with
    room, and failing that its new measurements are printed (`unsaved_lines`)."""

    def __init__(self, store: CheckpointStore | None, ledger: Ledger, journaling: JournalKeeper,
                 writes: bool = True, rescue_places: Sequence[Path] = ()) -> None:
        self.store = store
        self.ledger = ledger
        self.journaling = journaling
        self.writes = writes  # an xdist worker never writes: its measurements reach the controller
        self.rescue_places = rescue_places
        self.saved_to: Path | None = None
        self.saved_count = 0
        self.error = ""
        self.unsaved_lines: list[str] = []  # measurements no file could take: the terminal prints them

    @property
    def journal(self) -> Journal | None:
        return self.journaling.journal

    @property
    def cannot_keep(self) -> str:
        """Why a measurement could not be journaled ('' while all are): the run stops measuring."""
        return self.journaling.cannot_keep

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
            if final:
                self._rescue(interrupted)
            return
        if final and self.journal is not None:
            self.journal.remove()

    def _rescue(self, interrupted: bool) -> None:
        """The last save failed: keep the run's measurements where there is room, and say where."""
        assert self.store is not None
        new = self.ledger.new_count
        rescued = self.store.save_elsewhere(self.ledger.to_save(), self.rescue_places, interrupted=interrupted)
        if rescued is not None:
            if self.journal is not None:
                self.journal.remove()  # the rescued file holds all of it
            self.error += (f"; this run's {new} new measurements are saved in {rescued} (with the "
                           f"{self.store.saved_count - new} it loaded): once there is room, move it to "
                           f"{self.store.directory / f'{self.store.next_index()}{SUFFIX}'} and the next run "
                           "resumes from it")
            return
        held = self.journal.held if self.journal is not None else 0
        if self.journal is not None and held == 0:
            self.journal.remove()  # an empty journal keeps nothing
        journaled = (f"{held} of them are in the journal {self.journal.path}, which the next run recovers; "
                     if held and self.journal is not None else "")
        self.error += (f"; no other place could take this run's {new} new measurements either: {journaled}"
                       "all are printed below, one JSON object per line (the journal's format)")
        self.unsaved_lines = [json.dumps(m.to_dict(), separators=(",", ":"))
                              for m in self.ledger.new_measurements()]

    @property
    def loaded_from(self) -> Path | None:
        return self.store.loaded_from if self.store else None
