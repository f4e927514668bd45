"""The A/B gate's rules on simulated pairs: how often a real slowdown fails a point, and how often an unchanged
model passes or falsely fails, under the conditions of a shared CI machine. No server: the pairs come from
`tests/analysis/test_ab.py`'s `simulate` (the gate as a run applies it, point by point, more pairs while
undecided), so these are the figures that test's assertions bound.

Each side's throughput is a count of the requests that completed in a 0.7 s window (pairs often repeat the
same ratio), and a neighbour slows one side in ten (or in five) by up to 15%. 8 points a run, `--seeds` runs
(default 150: 1,200 point-checks a case). Prints each case's share of points failed, passed and inconclusive;
`--json PATH` writes them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (name, candidate's throughput over the baseline's, share of disturbed sides)
    ("13% slower, one side in ten disturbed", 0.87, 0.1),
    ("13% slower, one side in five disturbed", 0.87, 0.2),
    ("unchanged, one side in ten disturbed", 1.0, 0.1),
    ("unchanged, one side in five disturbed", 1.0, 0.2),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=150)
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from harness import emit, require

    from pytest_model_analyzer.analysis.statistics import Verdict
    from tests.analysis.test_ab import simulate

    lines, figures = [], {"seeds": args.seeds, "points": 8, "window_s": 0.7, "cases": {}}
    for name, change, disturbed in CASES:
        verdicts = [verdict for seed in range(args.seeds)
                    for verdict in simulate(change, 0.0, seed, points=8, window=0.7, disturbed=disturbed)]
        require(len(verdicts) == 8 * args.seeds, f"{name}: {len(verdicts)} verdicts, not {8 * args.seeds}")
        shares = {verdict.value: 100 * verdicts.count(verdict) / len(verdicts)
                  for verdict in (Verdict.FAIL, Verdict.PASS, Verdict.INCONCLUSIVE)}
        figures["cases"][name] = shares
        lines.append((name, " / ".join(f"{value:.1f}% {key}" for key, value in shares.items())))
    emit(lines, figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
