"""pytest-model-analyzer: Triton model profiling as pytest items, with performance gates for CI."""

__version__ = "0.1.0"
