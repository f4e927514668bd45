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
        return {"passed": "pass", "failed": "FAIL", "inconclusive": "?"}.get(self.value, self.value)
