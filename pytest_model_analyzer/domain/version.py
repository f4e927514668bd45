"""The plugin's version: what checkpoints and testbeds record. In the bottom layer, so that infra reads it
without importing the package root (no import runs upward)."""

__version__ = "0.1.0"
