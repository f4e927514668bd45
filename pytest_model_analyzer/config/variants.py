"""`model_config_parameters` -> model-config variants, with Model Analyzer's sweep rules and names.

Rules (Model Analyzer's ConfigSweep + GeneratorUtils.generate_combinations):
* a field's value that is a list is a sweep: each element is one choice; any other value is one choice.
  A repeated field (`instance_group`, `input`, ...) is itself a list, so it sweeps with a list of lists;
  a plain list of groups is one choice.
* a choice that is a mapping sweeps each of its fields in turn (cartesian product);
* a choice that is a list takes one alternative of each element (cartesian product);
* a map field (`parameters`, ...) sweeps each of its entries as a field of the map's value type;
* `null` leaves the field as the repository's config has it;
* an integer field also takes a `{start, stop, step}` range (an extension: Model Analyzer wants a list).

Order (ManualModelConfigGenerator): `max_batch_size` is the inner loop; the other fields' product, in the order
written, is the outer one. A variant is laid over the repository's config by merging mappings recursively
(BaseModelConfigGenerator._apply_value_to_dict): `dynamic_batching: {max_queue_delay_microseconds: 100}`
keeps the config's `preferred_batch_size`; lists (`instance_group`) are replaced whole.
Names follow Model Analyzer's ModelVariantNameManager: `<model>_config_default` for the repository's config
(always first), then `<model>_config_0`, `_1`, ... for each distinct resulting config, in generation order.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pytest_model_analyzer.config.limits import MAX_VARIANTS, require_at_most
from pytest_model_analyzer.config.values import describe, parse_range
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import canonical

_INTEGER_TYPES = frozenset({1, 2, 3, 4})  # FieldDescriptor.CPPTYPE_INT32, INT64, UINT32, UINT64


@dataclass(frozen=True)
class Variant:
    name: str
    parameters: dict[str, Any]  # ModelConfig fields laid over the repository's config; empty for the default
    default: bool = False  # the repository's own config, loaded as the repository has it
    # An ensemble's or BLS model's composing models, each with the variant it is loaded with for this one
    # (`("add", add_config_3)`): part of what the variant is, so part of its key.
    composing: tuple[tuple[str, Variant], ...] = ()

    @property
    def is_default(self) -> bool:
        return self.default

    def key(self) -> str:
        if not self.composing:
            return canonical(self.parameters)
        return canonical([self.parameters, [[model, variant.parameters] for model, variant in self.composing]])


@cache
def _model_config_descriptor() -> Any:
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2.ModelConfig.DESCRIPTOR


def _field(descriptor: Any, name: str, key: str) -> Any:
    field = descriptor.fields_by_name.get(name)
    if field is None:
        close = difflib.get_close_matches(name, list(descriptor.fields_by_name), n=1, cutoff=0.6)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise ConfigError(f"{key}.{name}", f"`{name}` is not a field of Triton's {descriptor.name}{hint}")
    return field


def _is_repeated(field: Any) -> bool:
    # protobuf 5.28+ has `is_repeated`; newer releases (6.x, as on GPU images) dropped `label`.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        repeated = field.label == field.LABEL_REPEATED
    return bool(repeated) and not _is_map(field)


def _is_map(field: Any) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _expand_message(value: dict[str, Any], descriptor: Any, key: str) -> list[dict[str, Any]]:
    """All alternatives of a message written as a mapping: the product over its fields' sweeps."""
    return _product(value, lambda name: _field(descriptor, name, key), key)


def _product(value: dict[str, Any], field_of: Any, key: str) -> list[dict[str, Any]]:
    """The product over the sweeps of a mapping's entries, each swept as the field `field_of(name)` says."""
    names = list(value)
    sweeps = [_expand_field(value[name], field_of(name), f"{key}.{name}") for name in names]
    require_at_most(key, math.prod(len(sweep) for sweep in sweeps), MAX_VARIANTS, "combinations")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*sweeps)]


def _expand_field(value: Any, field: Any, key: str) -> list[Any]:
    """The sweep of one field: the list of values it takes across variants."""
    if _is_repeated(field):
        is_sweep = isinstance(value, list) and bool(value) and all(isinstance(item, list) for item in value)
        choices = value if is_sweep else [value]
        result: list[Any] = []
        for choice in choices:
            result.extend(_expand_repeated(choice, field, key))
            require_at_most(key, len(result), MAX_VARIANTS, "combinations")
        return result
    if isinstance(value, dict) and field.cpp_type in _INTEGER_TYPES and {"start", "stop"} <= set(value):
        return parse_range(value, key)  # an extension: Model Analyzer takes only lists here
    choices = value if isinstance(value, list) else [value]
    if not choices:
        raise ConfigError(key, "an empty list sweeps over nothing")
    result = []
    for choice in choices:
        result.extend(_expand_single(choice, field, key))
    return result


def _expand_repeated(value: Any, field: Any, key: str) -> list[list[Any]]:
    items = value if isinstance(value, list) else [value]
    alternatives = [_expand_single(item, field, f"{key}[{index}]") for index, item in enumerate(items)]
    require_at_most(key, math.prod(len(choices) for choices in alternatives), MAX_VARIANTS, "combinations")
    return [list(combo) for combo in itertools.product(*alternatives)]


def _expand_single(value: Any, field: Any, key: str) -> list[Any]:
    if value is None:
        return [None]
    if field.message_type is not None and not _is_map(field):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping for {field.message_type.name}, got {describe(value)}")
        return _expand_message(value, field.message_type, key)
    if _is_map(field):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {describe(value)}")
        # Each entry sweeps as a field of the map's value type (ConfigCommandProfile's `"*"` schema).
        entry = field.message_type.fields_by_name["value"]
        return _product(value, lambda name: entry, key)
    if isinstance(value, (dict, list)):
        raise ConfigError(key, f"expected a single value, got {describe(value)}")
    return [value]


def expand_parameters(parameters: dict[str, Any] | None,
                      key: str = "model_config_parameters") -> list[dict[str, Any]]:
    """The parameter sets a `model_config_parameters` mapping sweeps over, in Model Analyzer's order:
    the product of every field but `max_batch_size` (in the order written) outside, `max_batch_size` inside."""
    if not parameters:
        return []
    if not isinstance(parameters, dict):
        raise ConfigError(key, f"expected a mapping of model config fields, got {describe(parameters)}")
    ordered = {name: item for name, item in parameters.items() if name != "max_batch_size"}
    if "max_batch_size" in parameters:
        ordered["max_batch_size"] = parameters["max_batch_size"]
    combos = _expand_message(ordered, _model_config_descriptor(), key)
    return [{name: item for name, item in combo.items() if item is not None} for combo in combos]


def make_variants(model: str, parameters: dict[str, Any] | None, key: str = "model_config_parameters",
                  base_config: Mapping[str, Any] | None = None) -> list[Variant]:
    """The default variant first, then one variant per distinct config the parameter sets give."""
    return name_variants(model, expand_parameters(parameters, key), base_config)


def default_variant_name(model: str) -> str:
    """The repository's own config, as Model Analyzer names it."""
    return f"{model}_config_default"


def name_variants(model: str, parameter_sets: list[dict[str, Any]],
                  base_config: Mapping[str, Any] | None = None) -> list[Variant]:
    """`<model>_config_default` first, then `<model>_config_<n>` per distinct resulting config, in order.

    As ModelVariantNameManager: sets that give the same config (laid over `base_config`) share a name, and a
    set that gives the repository's config still gets a number of its own (only the default generator's
    empty set is `_config_default`); the plugin then measures that config once for both names."""
    variants = [Variant(default_variant_name(model), {}, default=True)]
    seen: set[str] = set()
    for parameters in parameter_sets:
        text = canonical(merge_config(base_config or {}, parameters))
        if text not in seen:
            seen.add(text)
            variants.append(Variant(f"{model}_config_{len(variants) - 1}", parameters))
    return variants


def merge_config(base_config: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`parameters` laid over `base_config` as Model Analyzer does: mappings merge recursively, anything
    else (a list, a scalar, a mapping over a non-mapping) replaces the base's value."""
    config = copy.deepcopy(dict(base_config))
    for name, value in parameters.items():
        if value is None:
            continue
        if isinstance(config.get(name), dict) and isinstance(value, dict):
            config[name] = merge_config(config[name], value)
        else:
            config[name] = copy.deepcopy(value)
    return config


def apply_variant(base_config: Mapping[str, Any], variant: Variant) -> dict[str, Any]:
    """The full config to load: the repository's config with the variant's fields merged in.

    Triton's load API replaces the whole config, so the result must be complete (inputs, outputs, ...).
    """
    return merge_config(base_config, variant.parameters)
