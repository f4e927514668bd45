"""Model configs as Triton defines them: read from config.pbtxt, normalised through the ModelConfig protobuf.

Normalising both our configs and Model Analyzer's (camelCase JSON) through the same message makes a point
measured here and the same point measured by Model Analyzer compare equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_model_analyzer.config.variants import Variant, apply_variant
from pytest_model_analyzer.domain.errors import PluginError

# Not part of what is measured: the name changes per variant, cpu_only is Model Analyzer's own flag.
_IGNORED = ("name", "cpu_only")


class ModelConfigError(PluginError, ValueError):
    """A config.pbtxt or config mapping that Triton's ModelConfig cannot hold."""


def normalise(config: dict[str, Any]) -> dict[str, Any]:
    """The config as protobuf JSON with snake_case names, without the fields that do not define a point."""
    from google.protobuf import json_format
    from tritonclient.grpc import model_config_pb2

    cleaned = {key: value for key, value in config.items() if key not in _IGNORED}
    try:
        message = json_format.ParseDict(cleaned, model_config_pb2.ModelConfig())
    except json_format.ParseError as exc:
        raise ModelConfigError(str(exc)) from None
    return dict(json_format.MessageToDict(message, preserving_proto_field_name=True))


def read_model_config(repository: Path, model: str) -> dict[str, Any]:
    from google.protobuf import json_format, text_format
    from tritonclient.grpc import model_config_pb2

    path = repository / model / "config.pbtxt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}  # Triton can auto-complete some backends' configs; the variants define the rest
    except OSError as exc:
        raise ModelConfigError(f"{path}: {exc}") from None
    try:
        message = text_format.Parse(text, model_config_pb2.ModelConfig())
    except text_format.ParseError as exc:
        raise ModelConfigError(f"{path}: {exc}") from None
    return dict(json_format.MessageToDict(message, preserving_proto_field_name=True))


def requested_config(base: dict[str, Any], variant: Variant) -> dict[str, Any]:
    """What a variant asks the server for: the repository's config with the variant's fields replaced."""
    return normalise(apply_variant(base, variant))


# perf_analyzer's profile export writes every request's input values as JSON text: for the small tensors of
# a test model a few hundred bytes a request, for an image (150,528 values) megabytes. Beyond this many values a
# request, the plugin asks for the export only where an SLO needs it (profile.py: ModelSpec.export_requests).
EXPORT_VALUES_LIMIT = 1024


def request_values(base_config: dict[str, Any], batch_size: int) -> int | None:
    """How many input values one request of `batch_size` carries, from the config's inputs; None when a
    dimension is variable (-1) or the config lists no inputs (auto-completed by the server)."""
    total = 0
    for tensor in base_config.get("input") or []:
        count = 1
        for dim in tensor.get("dims") or []:
            size = int(dim)
            if size < 0:
                return None
            count *= size
        total += count
    if not total:
        return None
    batched = int(base_config.get("max_batch_size", 0) or 0) > 0
    return total * (batch_size if batched else 1)
