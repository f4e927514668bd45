"""Every request is exported where that costs little, or where an SLO needs it: never an image model's megabytes
a request by default."""

from __future__ import annotations

from pathlib import Path

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.model_config import request_values
from tests.support import MODELS

IMAGE = """name: "image"
backend: "python"
max_batch_size: 8
input [ { name: "IMAGE", data_type: TYPE_FP32, dims: [ 3, 224, 224 ] } ]
output [ { name: "LABEL", data_type: TYPE_FP32, dims: [ 1000 ] } ]
"""


def test_small_requests_are_exported_and_an_image_models_only_for_an_slo(tmp_path: Path) -> None:
    (tmp_path / "image" / "1").mkdir(parents=True)
    (tmp_path / "image" / "config.pbtxt").write_text(IMAGE)
    add = build_profile({"model_repository": str(MODELS), "profile_models": "add"}).models[0]
    assert add.export_requests  # 16 values a request
    image = build_profile({"model_repository": str(tmp_path), "profile_models": "image"}).models[0]
    assert not image.export_requests  # 150,528 values a request: perf_analyzer would write them all
    with_slo = build_profile({"model_repository": str(tmp_path), "profile_models": "image",
                              "slo": {"request_latency": 50}}).models[0]
    assert with_slo.export_requests


def test_the_values_a_request_carries() -> None:
    config = {"max_batch_size": 8, "input": [{"dims": [16]}, {"dims": [2, 3]}]}
    assert request_values(config, 4) == 4 * 22
    assert request_values({**config, "max_batch_size": 0}, 4) == 22
    assert request_values({"input": [{"dims": [-1, 3]}]}, 1) is None
    assert request_values({}, 1) is None
