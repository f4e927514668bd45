"""The ledger keeps every measurement of a run; on an xdist controller it takes them from the workers' reports."""

from __future__ import annotations

from pytest_model_analyzer.results.ledger import Ledger
from tests.results.test_resolver import MANUAL, FakeMeasurer, model, points


def test_an_xdist_controller_observes_what_workers_reported() -> None:
    point = points(model(MANUAL))[0]
    measurement = FakeMeasurer()(point)
    ledger = Ledger()
    assert ledger.observe(measurement) is True  # new: the controller saves at once
    assert ledger.observe(measurement) is False  # the same report again adds nothing
    stored = Ledger([measurement], stored_from="0.ckpt")
    assert stored.observe(measurement, reused=True) is False and stored.reused_count == 1
    assert ledger.rows() == [measurement] and ledger.new_count == 1
