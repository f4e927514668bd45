"""Time to collect a generated profile of 10,000 measurement points.

Side by side in one run: `pytest --ma-config gen.yaml --collect-only` and, as the baseline, pytest collecting
10,000 plain parametrized tests. Prints both and their ratio; `--json PATH` writes
{"items": ..., "collect_seconds": ..., "baseline_seconds": ..., "ratio": ...}.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import emit, require, workspace

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "example_suites" / "models"


def write_inputs(directory: Path) -> tuple[Path, Path]:
    # 99 variants (33 max_batch_size x 3 instance counts) + default = 100; x 10 batch sizes x 10 concurrencies.
    profile = directory / "gen.yaml"
    profile.write_text(f"""
model_repository: {MODELS}
run_config_search_disable: true
profile_models:
  add:
    model_config_parameters:
      max_batch_size: {{start: 1, stop: 33}}
      instance_group:
        - kind: KIND_CPU
          count: [1, 2, 3]
batch_sizes: {{start: 1, stop: 10}}
concurrency: {{start: 1, stop: 10}}
""")
    plain = directory / "test_plain.py"
    plain.write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('point', [f'v{v}-b{b}-c{c}' for v in range(100) for b in range(10)"
        " for c in range(10)])\n"
        "def test_point(point):\n    pass\n"
    )
    return profile, plain


def collect(args: list[str], cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                             *args], cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    match = re.search(r"(\d+) tests? collected", result.stdout)
    require(result.returncode == 0 and match is not None,
            f"collection failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    assert match is not None
    return seconds, int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    args = parser.parse_args()
    with workspace("collect") as tmp:
        directory = Path(tmp)
        profile, plain = write_inputs(directory)
        ours, baseline, items = [], [], 0
        for _ in range(args.rounds):
            seconds, items = collect(["--ma-config", str(profile)], directory)
            require(items == 10_000, f"the profile collected {items} items, not 10,000")
            ours.append(seconds)
            seconds, plain_items = collect([str(plain)], directory)
            require(plain_items == 10_000, f"the plain file collected {plain_items} tests, not 10,000")
            baseline.append(seconds)
    figures = {
        "items": items,
        "collect_seconds": round(statistics.median(ours), 3),
        "baseline_seconds": round(statistics.median(baseline), 3),
    }
    figures["ratio"] = round(figures["collect_seconds"] / figures["baseline_seconds"], 3)
    emit([("profile items collected", str(items)),
          ("pytest --ma-config (wall)", f"{figures['collect_seconds']:.2f} s (median of {args.rounds})"),
          ("10,000 parametrized tests", f"{figures['baseline_seconds']:.2f} s"),
          ("ratio profile / plain", f"{figures['ratio']:.2f}")], figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
