"""Errors shown to the user as one message, without a traceback."""


class MeasurementError(Exception):
    """A point could not be measured (server, model load or perf_analyzer failure): the item errors."""
