"""What a run learned about where it measured: GPUs, idle server metrics, server restarts, notes.

The fixtures that own the server and the monitor write these; under xdist each worker sends its facts to
the controller once, at its end (`as_worker_output` / `merge_worker_output`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_model_analyzer.domain.outcome import NoteKind


@dataclass
class RunFacts:
    notes: dict[str, NoteKind] = field(default_factory=dict)  # each note, once, in the order noted
    server_restarts: int = 0
    gpu_count: int = 0
    gpu_note: str = ""
    server_only: dict[str, dict[str, float]] = field(default_factory=dict)  # idle GPU metrics per GPU

    def note(self, text: str, kind: NoteKind = NoteKind.RUN) -> None:
        self.notes.setdefault(text, kind)

    def as_worker_output(self) -> dict[str, Any]:
        return {"notes": {text: kind.value for text, kind in self.notes.items()},
                "server_restarts": self.server_restarts, "gpu_count": self.gpu_count,
                "gpu_note": self.gpu_note, "server_only": self.server_only}

    def merge_worker_output(self, output: dict[str, Any]) -> None:
        for text, kind in output.get("notes", {}).items():
            self.note(text, NoteKind(kind))
        self.server_restarts += int(output.get("server_restarts", 0))
        self.gpu_count = max(self.gpu_count, int(output.get("gpu_count", 0)))
        self.gpu_note = self.gpu_note or output.get("gpu_note", "")
        self.server_only.update(output.get("server_only", {}))
