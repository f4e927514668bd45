"""The bottom layer: pure types that every other layer shares (errors, metrics, point identity,
measurements, bounds). Nothing here imports another layer, does I/O or starts a process."""
