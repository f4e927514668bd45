"""The fleet launcher's endpoints file: the profile keys, with the address the controller reaches."""

from __future__ import annotations

import yaml

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.infra.fleet import endpoints_yaml
from pytest_model_analyzer.infra.server import Endpoints
from tests.support import MODELS


def test_endpoints_are_the_profile_keys_with_the_advertised_host() -> None:
    servers = [Endpoints("0.0.0.0:8000", "0.0.0.0:8001", "http://0.0.0.0:8002/metrics"),
               Endpoints("0.0.0.0:8010", "0.0.0.0:8011", "http://0.0.0.0:8012/metrics")]
    keys = yaml.safe_load(endpoints_yaml(servers, advertise="gpu-host-1"))
    assert keys == {"triton_launch_mode": "remote",
                    "triton_http_endpoints": ["gpu-host-1:8000", "gpu-host-1:8010"],
                    "triton_grpc_endpoints": ["gpu-host-1:8001", "gpu-host-1:8011"],
                    "triton_metrics_urls": ["http://gpu-host-1:8002/metrics", "http://gpu-host-1:8012/metrics"]}
    # Pasted into a profile, they are what remote mode with one server per worker reads.
    profile = build_profile({**keys, "model_repository": str(MODELS), "profile_models": "add"},
                            config_dir=MODELS.parent)
    assert profile.remote_endpoints(1) == ("gpu-host-1:8010", "gpu-host-1:8011", "http://gpu-host-1:8012/metrics")


def test_without_advertise_the_listening_addresses_are_kept() -> None:
    keys = yaml.safe_load(endpoints_yaml([Endpoints("127.0.0.1:1", "127.0.0.1:2", "http://127.0.0.1:3/metrics")],
                                         advertise=None))
    assert keys["triton_grpc_endpoints"] == ["127.0.0.1:2"]
    assert keys["triton_metrics_urls"] == ["http://127.0.0.1:3/metrics"]
