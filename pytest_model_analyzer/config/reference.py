"""The configuration reference, made from the option table itself, so the documentation cannot drift from it.

`python -m pytest_model_analyzer.config.reference > docs/reference/configuration.md` writes the page; a test
checks that the committed page is what this prints.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.llm import parse_model_type
from pytest_model_analyzer.config.options import MODEL_KEYS, OPTIONS, Option, help_topic
from pytest_model_analyzer.config.search_settings import parse_search_strategy
from pytest_model_analyzer.domain.metrics import METRICS

# Model Analyzer's placeholder types, by the parser that reads each.
_TYPES: dict[v.Parser, str] = {
    v.parse_bool: "boolean",
    v.parse_str: "string",
    v.parse_int: "int",
    v.parse_float: "float",
    v.parse_positive_int_list: "list of ints, comma-delimited list or `{start, stop, step}` range",
    v.parse_str_list: "comma-delimited list or list of strings",
    v.parse_dict: "dict",
    v.parse_str_dict: "dict of strings",
    parse_model_type: "string (generic or LLM)",
    parse_search_strategy: "string (brute, quick or optuna)",
}


def _type(option: Option) -> str:
    return _TYPES.get(option.parse, "structured (see the page on the configuration)")


def _default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, enum.Enum):
        value = value.value
    text = json.dumps(value) if isinstance(value, (dict, list, bool)) else str(value)
    return f"`{text}`".replace("|", "\\|")


def _effect(option: Option) -> str:
    return f"warns only: {option.unsupported}" if option.unsupported else "acts"


def reference_markdown() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Every key of the profile YAML: Model Analyzer's `profile` keys, and the plugin's own. Generated from the",
        "option table (`pytest_model_analyzer/config/options.py`) by",
        "`python -m pytest_model_analyzer.config.reference`; a test keeps this page equal to it.",
        "",
        "*Effect*: **acts**, or **warns only**: the key is read and validated, and setting it prints that it has no",
        "effect yet, and why. *CLI*: the pytest option that sets it (command line over YAML over default); keys",
        "without one are set in the YAML only. Relative paths in the YAML are relative to the YAML file.",
        "",
        "Under `profile_models.<model>` these keys may be given per model: "
        + ", ".join(f"`{key}`" for key in sorted(MODEL_KEYS)) + ".",
        "",
        "| key | what it is | type | default | CLI | `pytest --help` heading | effect |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, option in OPTIONS.items():
        flag = f"`{option.flag}`" if option.cli else "YAML only"
        what = option.help.replace("|", "\\|")
        lines.append(f"| `{key}` | {what} | {_type(option)} | {_default(option.default)} | {flag} | "
                     f"{help_topic(key)} | {_effect(option)} |")
    return "\n".join(lines) + "\n"


def metrics_markdown() -> str:
    """docs/reference/metrics.md: every metric a measurement can hold, from domain/metrics.py."""
    lines = [
        "# Metrics",
        "",
        "Every metric a measurement can hold, under Model Analyzer's tags: what constraints, objectives, the gates",
        "(`--ma-compare-fail=TAG:N%`), the CSV columns and junit properties name. Generated from",
        "`pytest_model_analyzer/domain/metrics.py` by `python -m pytest_model_analyzer.config.reference --metrics`;",
        "a test keeps this page equal to it. *Better*: which way a change is an improvement (what ranking and the",
        "regression gates read). *Models together*: the combination's own figure, from its models'.",
        "",
        "| tag | unit | better | column | from | models together |",
        "|---|---|---|---|---|---|",
    ]
    for metric in METRICS.values():
        better = "higher" if metric.higher_is_better else "lower"
        together = metric.combine.value if metric.combine else "each model's own"
        lines.append(f"| `{metric.tag}` | {metric.unit or 'share'} | {better} | {metric.header} | "
                     f"{metric.source.replace('|', chr(92) + '|')} | {together} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(metrics_markdown() if "--metrics" in sys.argv[1:] else reference_markdown(), end="")
