"""What a profile may ask for, checked before anything is allocated.

A hostile or mistaken config (YAML aliases that expand a billion times, a range of a hundred million loads, a
50 MB list, nesting thousands deep) must end in one usage error naming the key, not in a MemoryError after a
minute or a hang. The limits sit far above any real profile: Model Analyzer's own automatic search stays
under a hundred variants and a few dozen loads per model.
"""

from __future__ import annotations

from typing import Any

from pytest_model_analyzer.domain.errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20  # the YAML file
MAX_DEPTH = 64  # nesting of the loaded YAML
MAX_VALUES = 100_000  # values in the loaded YAML, aliases expanded
MAX_RANGE = 10_000  # values of one {start, stop, step}
MAX_VARIANTS = 10_000  # model-config variants of one model
MAX_POINTS = 100_000  # measurement points of the whole profile


def require_at_most(key: str, count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ConfigError(key, f"{count:,} {what} requested; the limit is {limit:,}; narrow it")


def check_document(data: Any) -> None:
    """The loaded YAML's size with aliases expanded, and its depth, in time linear in its distinct nodes:
    a subtree shared through aliases is measured once and counted at each use (a billion-laughs document
    is refused without being walked a billion times)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if not children:
            continue
        ident = id(node)
        if done:
            active.discard(ident)
            size[ident] = 1 + sum(size.get(id(c), 1) for c in children)
            depth[ident] = 1 + max(depth.get(id(c), 0) for c in children)
            if size[ident] > MAX_VALUES:
                raise ConfigError("", f"the config expands to more than {MAX_VALUES:,} values (YAML aliases "
                                      "repeat what they refer to); write it out, or narrow it")
            if depth[ident] > MAX_DEPTH:
                raise ConfigError("", f"the config is nested more than {MAX_DEPTH} levels deep")
            continue
        if ident in size:
            continue
        if ident in active:
            raise ConfigError("", "the config refers to itself (a YAML alias inside its own anchor)")
        active.add(ident)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in size)


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [*node.keys(), *node.values()]
    if isinstance(node, (list, tuple)):
        return list(node)
    return []
