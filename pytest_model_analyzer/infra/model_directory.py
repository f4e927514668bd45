"""A model-config variant written as a model directory Triton can load: `<repository>/<variant>/config.pbtxt`
(named as the variant, as Model Analyzer names it) with the model's other files linked from the source.

Two writers use it: the reports (each model's best configuration in `output_model_repository_path`) and
`triton_launch_mode: c_api`, whose perf_analyzer loads each variant from a repository of the run's own. A
directory this plugin did not write is only replaced when asked (`override_output_model_repository`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

MARKER = ".written-by-pytest-model-analyzer"


def to_pbtxt(config: dict[str, Any]) -> str:
    from google.protobuf import json_format, text_format
    from tritonclient.grpc import model_config_pb2

    return str(text_format.MessageToString(json_format.ParseDict(config, model_config_pb2.ModelConfig())))


def write_model(output: Path, variant: str, config: dict[str, Any], source: Path | None, override: bool) -> Path:
    target = output / variant
    if target.resolve().parent != output.resolve():
        raise ValueError(f"`{variant}` would be written outside {output}")  # never leave the directory
    if target.exists():
        if not (target / MARKER).exists() and not override:
            raise FileExistsError(f"{target} exists and was not written by pytest-model-analyzer "
                                  "(set override_output_model_repository to replace it)")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text("")
    (target / "config.pbtxt").write_text(to_pbtxt({**config, "name": variant}))
    if source is not None and source.is_dir():
        for entry in source.iterdir():
            if entry.name != "config.pbtxt":
                (target / entry.name).symlink_to(entry.resolve())
    return target
