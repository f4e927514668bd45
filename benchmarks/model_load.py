"""What a variant switch costs on the bundled server: a Python model's load with Triton's config auto-complete on
(its default, as Model Analyzer runs it) against `strict-model-config: true`, and a change of the instance count
alone against a change that reloads the model (a new `max_batch_size`).

One server per side (auto-complete on, off), started from this checkout's stack on the example repository, in
alternating rounds. Each round, per side: `--loads` times an unload and a load of the `sleep` model; then
`--loads` times a switch between 1 and 2 instances (reported apart: adding one starts a Python backend process,
removing one does not), and a switch between `max_batch_size` 4 and 8, each through
Triton's load API with the full config (what the plugin does). It verifies that every load left the model ready
with the config asked for (instance count, max_batch_size read back); otherwise it fails without a figure.

Prints the median and range of each over all rounds; `--json PATH` writes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from harness import emit, median_range, require, workspace

ROOT = Path(__file__).resolve().parent.parent
MODEL = "sleep"


def timed_loads(client: Any, loads: int, config: dict[str, Any] | None = None,
                change: tuple[str, list[Any]] | None = None) -> list[float]:
    """Seconds of each load: a plain unload and load, or (with `change`) a load of the config with the field
    switched between its values, as the plugin switches variants."""
    seconds = []
    for index in range(loads):
        if change is None:
            client.unload_model(MODEL)
            started = time.perf_counter()
            client.load_model(MODEL)
        else:
            field, values = change
            assert config is not None
            wanted = json.loads(json.dumps(config))
            value = values[index % len(values)]
            if field == "count":
                wanted["instance_group"][0]["count"] = value
            else:
                wanted[field] = value
            started = time.perf_counter()
            client.load_model(MODEL, config=json.dumps(wanted))
        seconds.append(time.perf_counter() - started)
        require(client.is_model_ready(MODEL), f"{MODEL} is not ready after a load")
        if change is not None:
            served = client.get_model_config(MODEL, as_json=True)["config"]
            got = int(served["instance_group"][0]["count"]) if change[0] == "count" else int(served[change[0]])
            require(got == value, f"{change[0]} is {got} after asking for {value}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loads", type=int, default=4)
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this path")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import tritonclient.grpc as grpcclient

    from pytest_model_analyzer.infra import runtime
    from pytest_model_analyzer.infra.server import LocalServer

    sides = {"auto-complete on": {}, "strict-model-config": {"strict-model-config": "true"}}
    figures: dict[str, dict[str, list[float]]] = {
        side: {"load": [], "instance added": [], "instance removed": [], "max_batch_size": []} for side in sides}
    with workspace("model-load") as base:
        for index in range(args.rounds):
            order = list(sides.items()) if index % 2 == 0 else list(reversed(sides.items()))
            for side, flags in order:
                server = LocalServer(runtime.resolve_server("tritonserver"), ROOT / "example_suites" / "models",
                                     runtime.prepare(), base / f"{index}-{len(flags)}.log", flags=flags)
                endpoints = server.start()
                try:
                    client = grpcclient.InferenceServerClient(endpoints.grpc)
                    client.load_model(MODEL)
                    config = client.get_model_config(MODEL, as_json=True)["config"]
                    figures[side]["load"] += timed_loads(client, args.loads)
                    switches = timed_loads(client, args.loads, config, ("count", [2, 1]))
                    figures[side]["instance added"] += switches[0::2]  # 1 -> 2: a second instance starts
                    figures[side]["instance removed"] += switches[1::2]  # 2 -> 1
                    figures[side]["max_batch_size"] += timed_loads(client, args.loads, config,
                                                                   ("max_batch_size", [4, 8]))
                finally:
                    server.stop()
                print(f"round {index + 1}: {side} done", flush=True)
    lines = [(f"{side}: {what}", median_range(values, ".2f") + " s")
             for side, by_what in figures.items() for what, values in by_what.items()]
    emit(lines, {"rounds": args.rounds, "loads": args.loads, "seconds": figures,
                 "medians": {side: {what: statistics.median(values) for what, values in by_what.items()}
                             for side, by_what in figures.items()}}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
