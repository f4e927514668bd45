"""An A/B run's pairs (infra/versions.py): which side is measured when, under which names, and what the pair
records; a fake measurer, no server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_model_analyzer.config.points import Point
from pytest_model_analyzer.domain.measurement import Measurement
from pytest_model_analyzer.infra.baseline import Pairing, open_pairing
from pytest_model_analyzer.infra.versions import (
    DUET_FLAGS,
    UNPLACED,
    PairedMeasurer,
    PairMode,
    Served,
    one_core_for_the_server,
)
from tests.results.test_resolver import model, points
from tests.support import MODELS


class RecordingMeasurer:
    """Measures each side as 100 infer/sec for the candidate and 90 for the baseline (served as `add__baseline`),
    recording each call: ("load", sides), ("alone", served names), or ("at once", [served names], flags)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def _measured(self, point: Point, names: Mapping[str, str]) -> Measurement:
        throughput = 90.0 if names else 100.0
        return Measurement(model=point.model.name, variant=point.variant.name, batch_size=point.batch_size,
                           load_kind=point.load_kind, load=point.load, metrics={"perf_throughput": throughput},
                           config_digest=point.config_digest, config=point.config)

    def load_sides(self, point: Point, served_as: Sequence[Mapping[str, str]]) -> None:
        self.calls.append(("load", [dict(names) for names in served_as]))

    def measure(self, point: Point, served_as: Mapping[str, str] | None = None,
                beside: Sequence[str] = ()) -> Measurement:
        self.calls.append(("alone", dict(served_as or {}), tuple(beside)))
        return self._measured(point, served_as or {})

    def measure_at_once(self, point: Point, sides: Sequence[Served],
                        flags: Mapping[str, Any] | None = None) -> list[Measurement]:
        if len(sides) == 1 and not flags:  # what `measure` does: one side, measured alone
            return [self.measure(point, sides[0].names, sides[0].beside)]
        self.calls.append(("at once", [dict(side.names) for side in sides], [side.beside for side in sides],
                           dict(flags or {})))
        return [self._measured(point, side.names) for side in sides]


@pytest.fixture
def pairing(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Pairing]:
    for side in ("candidate", "baseline"):
        shutil.copytree(MODELS / "add", tmp_path / side / "add")
    opened = open_pairing(repository=str(tmp_path / "baseline"), rev=None, candidate=tmp_path / "candidate",
                          models=[("add", ["add"])], mode=request.param)
    yield opened
    opened.close()


@pytest.mark.parametrize("pairing", [PairMode.DUET], indirect=True)
def test_a_duet_measures_both_sides_at_once_over_fixed_windows_and_alternates_which_starts(
        pairing: Pairing) -> None:
    fake = RecordingMeasurer()
    measurer = PairedMeasurer(fake, pairing)  # type: ignore[arg-type]
    point = points(model({"concurrency": [1, 2]}))[0]
    first, second = measurer.measure(point), measurer.measure(point)
    together = [call for call in fake.calls if call[0] == "at once"]
    assert len(together) == 2 and not [call for call in fake.calls if call[0] == "alone"]
    # Each side keeps the other loaded beside it, and both perf_analyzers measure fixed windows.
    assert together[0][1:] == ([{}, {"add": "add__baseline"}], [("add__baseline",), ("add",)], DUET_FLAGS)
    # The second pair starts the baseline's perf_analyzer first.
    assert together[1][1] == [{"add": "add__baseline"}, {}]
    for measured in (first, second):
        assert measured.metrics["perf_throughput"] == 100.0
        assert measured.baseline_side is not None and measured.baseline_side.metrics["perf_throughput"] == 90.0
    assert second.pair is not None and second.pair.orders == ("B|A",)
    assert first.pair is not None and first.pair.orders == ("A|B",)
    # A duet's pairs are not a sequential run's: its key says so, and stored sequential pairs are not reused.
    assert first.pair.key == pairing.keys["add"] and first.pair.key.endswith("+duet")


@pytest.mark.parametrize("pairing", [PairMode.SIDE_BY_SIDE], indirect=True)
def test_sequential_pairs_measure_one_side_after_the_other_in_alternating_order(pairing: Pairing) -> None:
    fake = RecordingMeasurer()
    measurer = PairedMeasurer(fake, pairing)  # type: ignore[arg-type]
    point = points(model({"concurrency": [1]}))[0]
    first, second = measurer.measure(point), measurer.measure(point)
    alone = [call[1] for call in fake.calls if call[0] == "alone"]
    assert alone == [{}, {"add": "add__baseline"}, {"add": "add__baseline"}, {}]  # AB, then BA
    assert not [call for call in fake.calls if call[0] == "at once"]
    assert first.pair is not None and first.pair.orders == ("AB",)
    assert second.pair is not None and second.pair.orders == ("BA",)
    assert not first.pair.key.endswith("+duet")


@pytest.mark.parametrize(("allowed", "slot", "server", "client"), [
    ({0, 1}, None, {1}, {0}),
    ({0, 1, 2, 3}, None, {3}, {0, 1, 2}),
    ({0, 1, 2, 3}, 1, {2}, {0, 1, 3}),  # the second xdist worker's server takes the next core down
    ({0, 1}, 2, {1}, {0}),  # more workers than cores: they share, in turn
    ({5}, None, {5}, {5}),  # one CPU: everything on it
])
def test_a_duet_puts_the_server_on_one_core_and_perf_analyzer_on_the_others(
        allowed: set[int], slot: int | None, server: set[int], client: set[int]) -> None:
    placement = one_core_for_the_server(allowed, slot)
    assert placement.server == server and placement.client == client


@pytest.mark.parametrize("pairing", [PairMode.DUET, PairMode.SIDE_BY_SIDE], indirect=True)
def test_only_a_duet_places_the_server(pairing: Pairing) -> None:
    placement = pairing.placement(None)
    if pairing.mode is PairMode.DUET:
        assert placement.server is not None and len(placement.server) == 1
    else:
        assert placement == UNPLACED
