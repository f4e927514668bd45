"""Start a fleet of Triton servers on this host for `triton_launch_mode: remote` and `pytest -n N`.

`python -m pytest_model_analyzer.infra.fleet --model-repository models --servers 2 --endpoints fleet.yaml`
starts N `tritonserver`s in explicit model-control mode (one per GPU when the host has GPUs, each pinned
with CUDA_VISIBLE_DEVICES), writes their endpoints as the three profile keys (`triton_http_endpoints`,
`triton_grpc_endpoints`, `triton_metrics_urls`), and serves until SIGINT or SIGTERM, then stops them all.
On several hosts, run it on each with `--address 0.0.0.0 --advertise <host>` and join the lists. docs/scaling.md's
"A fleet of servers" is the recipe; tests/e2e/test_xdist.py drives it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

import yaml

from pytest_model_analyzer.infra import runtime
from pytest_model_analyzer.infra.installation import DEFAULT_SERVER, find_server
from pytest_model_analyzer.infra.monitor import gpu_inventory
from pytest_model_analyzer.infra.server import Endpoints, LocalServer


def endpoints_yaml(endpoints: list[Endpoints], advertise: str | None) -> str:
    """The profile keys for these servers; `advertise` replaces the listening address in them."""

    def host(address: str) -> str:
        return f"{advertise}:{address.rsplit(':', 1)[1]}" if advertise else address

    def url(metrics_url: str) -> str:
        scheme, rest = metrics_url.split("://", 1)
        address, path = rest.split("/", 1)
        return f"{scheme}://{host(address)}/{path}"

    return yaml.safe_dump({
        "triton_launch_mode": "remote",
        "triton_http_endpoints": [host(e.http) for e in endpoints],
        "triton_grpc_endpoints": [host(e.grpc) for e in endpoints],
        "triton_metrics_urls": [url(e.metrics_url) for e in endpoints],
    }, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-repository", type=Path, required=True)
    parser.add_argument("--servers", type=int, help="how many (default: one per GPU, else 1)")
    parser.add_argument("--endpoints", type=Path, required=True, help="where to write the profile keys (YAML)")
    parser.add_argument("--address", default="127.0.0.1", help="where the servers listen (default: loopback)")
    parser.add_argument("--advertise", help="the host name or address that the controller reaches them by")
    parser.add_argument("--logs", type=Path, default=Path("fleet-logs"))
    args = parser.parse_args(argv)
    gpus = gpu_inventory()
    count = args.servers or max(len(gpus), 1)
    if gpus and count > len(gpus):
        parser.error(f"--servers {count}: this host has {len(gpus)} GPU(s); servers sharing a GPU disturb each "
                     "other's measurements")
    install = find_server(DEFAULT_SERVER, runtime.prepare())
    stack = replace(runtime.prepare(), backend_dir=install.backend_dir)
    flags = {f"{kind}-address": args.address for kind in ("http", "grpc", "metrics")}
    servers = [LocalServer(install.executable, args.model_repository.resolve(), stack,
                           args.logs / f"tritonserver-{index}.log", flags=flags,
                           pinned_environment={"CUDA_VISIBLE_DEVICES": gpus[index].uuid} if gpus else None)
               for index in range(count)]
    stop, died = threading.Event(), False
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        endpoints = [server.start() for server in servers]
        args.endpoints.write_text(endpoints_yaml(endpoints, args.advertise))
        print(f"fleet: {count} server(s) ready; endpoints in {args.endpoints}; {install.describe()}", flush=True)
        while not stop.wait(1.0):
            for index, server in enumerate(servers):
                if not server.alive():
                    print(f"fleet: server {index} died (log: {server.log_path}); stopping", file=sys.stderr)
                    died = True
                    stop.set()
    finally:
        for server in servers:
            server.stop()
    return 1 if died else 0


if __name__ == "__main__":
    raise SystemExit(main())
