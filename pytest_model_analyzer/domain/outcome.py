"""A point's gate outcome as the run reports it: what its item's call decided, one value of a closed set, so
that a table or a count never decides by comparing words."""

from __future__ import annotations

import enum


class GateOutcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # passed (does not fail the run), but a regression check could not decide
    SKIPPED = "skipped"

    @property
    def word(self) -> str:
        """The summary table's `gate` column."""
        return _WORDS.get(self, self.value)


_WORDS = {GateOutcome.PASSED: "pass", GateOutcome.FAILED: "FAIL", GateOutcome.INCONCLUSIVE: "?"}


class NoteKind(enum.Enum):
    """What a note of the run is about, which decides where it is shown: every note at the end of the terminal
    output; the testbed and the findings also in the job summary."""

    TESTBED = "testbed"  # what the figures describe: which GPUs measured, or that CPU metrics stand in
    FINDING = "finding"  # what the results say: the best configs across models, a shipped config's drift
    RUN = "run"  # how the run went: recoveries, restarts, workers, files written or not

    @property
    def in_job_summary(self) -> bool:
        return self is not NoteKind.RUN
