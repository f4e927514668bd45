"""Model control with a fake Triton client: both sides of an A/B pair load at once, each side's failure is its
own, and a side already loaded is not loaded again."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pytest_model_analyzer.config.variants import Variant
from pytest_model_analyzer.infra.model_control import ModelControl, Side, VariantLoadError

TWO = Variant("sleep_config_0", {"instance_group": [{"kind": "KIND_CPU", "count": 2}]})
BASELINE = {"sleep": "sleep__baseline"}


class Client:
    """Loads meet at a barrier of `meet` parties: loads that do not overlap in time break it (a timeout)."""

    def __init__(self, meet: int, refuse: str = "") -> None:
        self.barrier = threading.Barrier(meet, timeout=5)
        self.refuse = refuse
        self.loads: list[str] = []

    def load_model(self, model: str, client_timeout: float, config: str = "") -> None:
        if config:  # the variant's load (the plain first load reads the repository's config)
            self.loads.append(model)
            self.barrier.wait()
            if model == self.refuse:
                from tritonclient.utils import InferenceServerException

                raise InferenceServerException(f"failed to load '{model}'")

    def unload_model(self, model: str, client_timeout: float) -> None:
        return None

    def get_model_config(self, model: str, client_timeout: float, as_json: bool = True) -> dict[str, Any]:
        return {"config": {"name": model, "max_batch_size": 8}}

    def close(self) -> None:
        return None


def control_with(client: Client, monkeypatch: pytest.MonkeyPatch) -> ModelControl:
    monkeypatch.setattr(ModelControl, "_connect", staticmethod(lambda url: client))
    monkeypatch.setattr(ModelControl, "warm_up", lambda self, model: None)
    return ModelControl("127.0.0.1:9")


def test_both_sides_of_a_pair_load_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(meet=2)
    control = control_with(client, monkeypatch)
    control.load_sides([Side("sleep", TWO), Side("sleep", TWO, served_as=BASELINE)])  # each waits for the other
    assert sorted(client.loads) == ["sleep", "sleep__baseline"]
    control.ensure("sleep", TWO, beside=["sleep__baseline"])  # already loaded: no load, no barrier to meet
    control.ensure("sleep", TWO, served_as=BASELINE, beside=["sleep"])
    assert len(client.loads) == 2


def test_a_side_that_fails_is_that_sides_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(meet=2, refuse="sleep__baseline")
    control = control_with(client, monkeypatch)
    with pytest.raises(VariantLoadError, match="sleep_config_0 did not load"):
        control.load_sides([Side("sleep", TWO), Side("sleep", TWO, served_as=BASELINE)])
    assert control.ensure("sleep", TWO, beside=["sleep__baseline"]) == {"name": "sleep", "max_batch_size": 8}
    with pytest.raises(VariantLoadError, match="failed to load 'sleep__baseline'"):
        control.ensure("sleep", TWO, served_as=BASELINE, beside=["sleep"])  # remembered, not tried again
    assert len(client.loads) == 2
