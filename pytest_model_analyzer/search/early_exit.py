"""Model Analyzer's early exits (constants.py): when a sweep stops gaining, the rest of it is not measured.

* load sweep: with at least 4 results, gain = (best - first) / first over the last 4 throughputs; the
  sweep stops when gain <= 5% (THROUGHPUT_MINIMUM_GAIN, THROUGHPUT_MINIMUM_CONSECUTIVE_PARAMETER_TRIES);
* max_batch_size sweep (per instance count): stops when the newest variant's best throughput is not
  strictly greater than every earlier one's (needs two);
* a failed measurement stops its sweep.
"""

from __future__ import annotations

from collections.abc import Sequence

MINIMUM_GAIN = 0.05
CONSECUTIVE_TRIES = 4


def load_sweep_plateau(throughputs: Sequence[float]) -> str | None:
    """Why the load sweep stops after these throughputs (in load order), or None to go on."""
    if len(throughputs) < CONSECUTIVE_TRIES:
        return None
    last = list(throughputs[-CONSECUTIVE_TRIES:])
    first = last[0]
    gain = (max(last) - first) / first if first > 0 else 0.0
    if gain <= MINIMUM_GAIN:
        return (f"early exit: the last {CONSECUTIVE_TRIES} loads gained {100 * gain:.1f}% in throughput "
                f"(<= {100 * MINIMUM_GAIN:.0f}%)")
    return None


def batch_size_sweep_stopped(best_throughputs: Sequence[float | None], names: Sequence[str]) -> str | None:
    """Why the max_batch_size sweep stops after these variants (best throughput each, None if all failed)."""
    if not best_throughputs:
        return None
    last = best_throughputs[-1]
    if last is None:
        return f"early exit: {names[-1]} failed to measure, which stops its max_batch_size sweep"
    if len(best_throughputs) < 2:
        return None
    earlier = [value for value in best_throughputs[:-1] if value is not None]
    if earlier and last <= max(earlier):
        return (f"early exit: {names[-1]} ({last:.1f} infer/sec) did not raise the best throughput of the "
                f"max_batch_size sweep ({max(earlier):.1f} infer/sec)")
    return None
