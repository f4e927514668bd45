"""Saving and loading a checkpoint of 10,000 measurements.

Side by side in one run: our atomic save (temp file, fsync, exclusive link) and load (parse, rebuild
Measurement objects), against the floor of a plain `json.dump`/`json.load` of the same records as dicts.
`--json PATH` writes {"measurements": 10000, "save_s": ..., "load_s": ..., "plain_save_s": ...,
"plain_load_s": ..., "ratio": ...} where ratio = (save + load) / (plain save + plain load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from harness import emit, median_range, require, workspace

from pytest_model_analyzer.domain.identity import digest
from pytest_model_analyzer.domain.latency import LatencySketch
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.checkpoint import CheckpointStore, read

METRICS = ["perf_throughput", "perf_latency_avg", "perf_latency_p50", "perf_latency_p90", "perf_latency_p95",
           "perf_latency_p99", "perf_client_send_recv", "perf_client_response_wait", "perf_server_queue",
           "perf_server_compute_input", "perf_server_compute_infer", "perf_server_compute_output",
           "cpu_utilization", "cpu_memory_used"]


def make(count: int) -> list[Measurement]:
    """100 variants x 10 batch sizes x 10 concurrencies, configs shared per variant as collection shares them;
    each keeps its requests' latencies as a measurement does (a sketch of 2,000 requests over 1 to 60 ms; one of
    100 such, built once: building them is not what is timed)."""
    sketches = [LatencySketch.of(1.0 + ((i * 7919 + point) % 2000) / 2000 * 59 for i in range(2000)).to_dict()
                for point in range(100)]
    result = []
    for variant in range(count // 100):
        config = {"name": "add", "backend": "python", "max_batch_size": 1 + variant,
                  "input": [{"name": "INPUT0", "data_type": "TYPE_FP32", "dims": ["16"]}],
                  "output": [{"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": ["16"]}],
                  "instance_group": [{"count": 1 + variant % 3, "kind": "KIND_CPU"}]}
        effective = {**config, "optimization": {"input_pinned_memory": {"enable": True}}}
        config_digest = digest(config)
        for point in range(100):
            result.append(Measurement(
                "add", f"add_config_{variant}", 1 + point // 10, "concurrency", 1 + point % 10,
                {tag: 1000.0 / (index + 1) + point for index, tag in enumerate(METRICS)},
                config_digest=config_digest, config=config, parameters={"max_batch_size": 1 + variant},
                effective_config=effective, perf_analyzer_flags={"measurement-interval": "200"},
                timestamp=1.7e9 + point, duration_s=1.5,
                latency=sketches[point]))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each side first in turn; medians, ranges")
    args = parser.parse_args()
    measurements = make(args.count)
    saves, loads, plain_saves, plain_loads, sizes = [], [], [], [], []

    def checkpoint(directory: Path) -> None:
        started = time.perf_counter()
        path = CheckpointStore(directory).save(measurements)
        saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        loaded = read(path)
        loads.append(time.perf_counter() - started)
        require(len(loaded) == len(measurements), f"loaded {len(loaded)} of {len(measurements)} measurements")
        require(all(m.latency for m in loaded), "a loaded measurement lost its requests' latencies")
        sizes.append(path.stat().st_size)

    def plain(directory: Path) -> None:
        target = directory / "plain.json"
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        target.write_text(json.dumps([m.to_dict() for m in measurements]))
        plain_saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        json.loads(target.read_text())
        plain_loads.append(time.perf_counter() - started)

    with workspace("checkpoint") as tmp:
        for index in range(args.rounds):
            # Alternate which side goes first, so that a warming cache or a neighbour favours neither.
            for contender in ((checkpoint, plain) if index % 2 == 0 else (plain, checkpoint)):
                contender(Path(tmp) / f"round{index}")
    ratios = [(s + lo) / (ps + pl) for s, lo, ps, pl in zip(saves, loads, plain_saves, plain_loads, strict=True)]
    figures = {"measurements": len(measurements), "rounds": args.rounds,
               "save_s": round(statistics.median(saves), 4), "load_s": round(statistics.median(loads), 4),
               "plain_save_s": round(statistics.median(plain_saves), 4),
               "plain_load_s": round(statistics.median(plain_loads), 4),
               "bytes_per_measurement": round(sizes[-1] / len(measurements)),
               "sketch_bytes": round(statistics.mean(len(json.dumps(m.latency)) for m in measurements)),
               "ratio": round(statistics.median(ratios), 3), "ratio_min": round(min(ratios), 3),
               "ratio_max": round(max(ratios), 3)}
    emit([("measurements", f"{figures['measurements']} ({args.rounds} rounds, medians (range))"),
          ("checkpoint save / load", f"{median_range(saves, '.3f')} s / {median_range(loads, '.3f')} s"),
          ("plain json.dump / load", f"{median_range(plain_saves, '.3f')} s / {median_range(plain_loads, '.3f')} s"),
          ("ratio checkpoint / plain, per round", median_range(ratios, ".2f")),
          ("checkpoint bytes per measurement", f"{figures['bytes_per_measurement']} "
                                               f"(of which the latency sketch {figures['sketch_bytes']})")],
         figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
