"""Checkpoints: `<n>.ckpt` JSON files holding every measurement, so that nothing measured is ever lost.

Rules (Model Analyzer's, without its flaws):
* the latest checkpoint is the highest integer; a run loads it and writes at most one new file, latest + 1,
  and only when it has new data; old checkpoints are never modified or deleted;
* the new index is reserved by an exclusive create (`os.link` of a complete temporary file), so two runs on
  one directory never write the same file and no empty file is ever left behind;
* every write is atomic: temporary file in the same directory, fsync, rename, fsync of the directory.

Schema (version 3; versions 1 and 2 are read too):

    {"format": "pytest-model-analyzer checkpoint", "schema_version": 3,
     "plugin_version": "...", "created": "<UTC ISO time>", "interrupted": false,
     "testbed": {"cpu", "cores", "gpus", "gpu_driver", "plugin", "tritonclient", "triton_server", "python"},
     "configs": {"<digest>": {<model config>}, ...},
     "measurements": [{"model", "variant", "batch_size", "load_kind", "load", "metrics": {tag: value},
                       "config": "<digest>", "effective_config": "<digest>", "parameters", "perf_analyzer_flags",
                       "gpu_metrics": {uuid: {tag: value}}, "timestamp", "duration_s", "window_adjusts",
                       "source", "trials": {tag: [value per trial]} (when more than one), "requests",
                       "latency": {"relative_accuracy", "offset", "counts": "57,4,0,1"} (domain/latency.py)}, ...]}

Each model config is stored once in `configs` and referenced by digest from the measurements.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_model_analyzer.domain.errors import PluginError
from pytest_model_analyzer.domain.identity import LOAD_KINDS, Setup, digest
from pytest_model_analyzer.domain.measurement import PAIR_FIELD, Measurement, PairedSide
from pytest_model_analyzer.domain.version import __version__

FORMAT = "pytest-model-analyzer checkpoint"
# 2: measurements carry trials and requests; the file records its testbed. 3: every request's latency (a
# sketch, `latency`) and custom loads (`load_kind: request_intervals`): a plugin that reads 2 would refuse both.
SCHEMA_VERSION = 3
SUFFIX = ".ckpt"
FRESH_HINT = "nothing was overwritten; run with --ma-fresh to start without earlier checkpoints (they stay on disk)"


class CheckpointError(PluginError):
    """A checkpoint cannot be read or written; the message names the file."""


def latest_index(directory: Path) -> int:
    """The highest `<n>.ckpt` in `directory`, or -1 when there is none."""
    if not directory.is_dir():
        return -1
    latest = -1
    for path in directory.glob(f"*{SUFFIX}"):
        stem = path.name[: -len(SUFFIX)]
        if not stem.isdigit():
            raise CheckpointError(f"{path}: checkpoint names must be whole numbers (0.ckpt, 1.ckpt, ...); "
                                  "rename or move this file")
        latest = max(latest, int(stem))
    return latest


def encode(measurements: Iterable[Measurement], interrupted: bool = False,
           testbed: Mapping[str, str] | None = None) -> dict[str, Any]:
    configs: dict[str, dict[str, Any]] = {}
    by_identity: dict[int, str] = {}  # measurements of one variant share their config objects

    def reference(config: dict[str, Any], known: str = "") -> str:
        found = known or by_identity.get(id(config))
        if found is None:
            found = by_identity[id(config)] = digest(config)
        configs.setdefault(found, config)
        return found

    rows = []
    for measurement in measurements:
        row = measurement.to_dict()
        row["config"] = reference(measurement.config, measurement.config_digest)
        del row["config_digest"]
        row["effective_config"] = reference(measurement.effective_config)
        rows.append(row)
    return {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "plugin_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "interrupted": interrupted,
        "testbed": dict(testbed or {}),
        "configs": configs, "measurements": rows,
    }


_NUMBER = (int, float)
_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "model": (str, "a string"), "variant": (str, "a string"), "load_kind": (str, "a string"),
    "batch_size": (int, "a whole number"), "load": (int, "a whole number"), "metrics": (dict, "a mapping"),
    "config": (str, "a config digest"), "effective_config": (str, "a config digest"),
    "parameters": (dict, "a mapping"), "perf_analyzer_flags": (dict, "a mapping"),
    "gpu_metrics": (dict, "a mapping"), "timestamp": (_NUMBER, "a number"), "duration_s": (_NUMBER, "a number"),
    "window_adjusts": (int, "a whole number"), "source": (str, "a string"), "trials": (dict, "a mapping"),
    "requests": (_NUMBER, "a number"), "composing": (list, "a list"), PAIR_FIELD: (dict, "a mapping"),
    "latency": (dict, "a mapping"),
}
_COUNTS = re.compile(r"(\d+(,\d+)*)?")  # a latency sketch's bin counts (domain/latency.py)
_REQUIRED = ("model", "variant", "batch_size", "load_kind", "load", "metrics", "config", "effective_config")


def _shape_problem(row: Any, configs: dict[str, Any]) -> str:
    """What is wrong with one stored measurement record, in words; '' when its shape is right."""
    if not isinstance(row, dict):
        return f"expected a mapping, got {type(row).__name__}"
    for name in _REQUIRED:
        if name not in row:
            return f"`{name}` is missing"
    for name, value in row.items():
        if name not in _FIELDS:
            return f"unknown field `{name}`"
        kind, words = _FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            return f"`{name}` must be {words}, got {type(value).__name__}"
    if row["load_kind"] not in LOAD_KINDS:
        return f"`load_kind` must be one of {', '.join(LOAD_KINDS)}"
    for name in ("config", "effective_config"):
        if not isinstance(configs.get(row[name]), dict):
            return f"`{name}` names no stored config"
    if not all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in row["metrics"].values()):
        return "`metrics` must map each metric to a number"
    trials = row.get("trials", {})
    if not all(isinstance(v, list) and all(isinstance(x, _NUMBER) for x in v) for v in trials.values()):
        return "`trials` must map each metric to a list of numbers"
    latency = row.get("latency", {})
    if latency and not (isinstance(latency.get("relative_accuracy"), _NUMBER) and isinstance(latency.get("offset"), int)
                        and isinstance(latency.get("counts"), str) and _COUNTS.fullmatch(latency["counts"])):
        return "`latency` must hold `relative_accuracy`, `offset` and `counts` (\"4,0,57\")"
    if not all(isinstance(v, dict) for v in row.get("gpu_metrics", {}).values()):
        return "`gpu_metrics` must map each GPU to its metrics"
    if not all(isinstance(c, dict) and isinstance(c.get("model"), str) and isinstance(c.get("variant"), str)
               and isinstance(c.get("config"), dict) for c in row.get("composing", [])):
        return "`composing` must list each composing model's `model`, `variant` and `config`"
    return _baseline_problem(row.get(PAIR_FIELD, {}))


def _baseline_problem(side: dict[str, Any]) -> str:
    """A paired baseline measurement (A/B in one run): a measurement of its own, with its configs inline."""
    if not side:
        return ""
    if not isinstance(side.get("from"), str) or not isinstance(side.get("key"), str):
        return "`baseline` must name where it came from (`from`) and its `key`"
    if not isinstance(side.get("metrics"), dict) or not all(
            isinstance(v, _NUMBER) and not isinstance(v, bool) for v in side["metrics"].values()):
        return "`baseline.metrics` must map each metric to a number"
    trials = side.get("trials", {})
    if not isinstance(trials, dict) or not all(
            isinstance(v, list) and all(isinstance(x, _NUMBER) for x in v) for v in trials.values()):
        return "`baseline.trials` must map each metric to a list of numbers"
    if not isinstance(side.get("order", []), list):
        return "`baseline.order` must be a list"
    try:
        PairedSide.from_dict(side)
    except TypeError as exc:
        return f"`baseline` is not a measurement ({exc})"
    return ""


def decode(data: Any, source: str) -> list[Measurement]:
    """The measurements of a checkpoint; every record's shape is checked as it is read, so that a damaged
    file is one clear error naming the record, never a crash later in a report."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{source}: not a pytest-model-analyzer checkpoint (use --ma-import-checkpoint "
                              f"for Model Analyzer's files); {FRESH_HINT}")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{source}: `schema_version` must be a whole number, got {str(version)[:40]!r}; "
                              f"{FRESH_HINT}")
    if version > SCHEMA_VERSION:
        raise CheckpointError(f"{source}: written with checkpoint schema version {version}, newer than this "
                              f"plugin's {SCHEMA_VERSION}: upgrade pytest-model-analyzer; {FRESH_HINT}")
    configs, rows = data.get("configs", {}), data.get("measurements")
    if not isinstance(configs, dict) or not isinstance(rows, list):
        raise CheckpointError(f"{source}: damaged checkpoint (`configs` must be a mapping and `measurements` a "
                              f"list); {FRESH_HINT}")
    measurements = []
    for index, row in enumerate(rows):
        problem = _shape_problem(row, configs)
        if problem:
            raise CheckpointError(f"{source}: damaged measurement record {index}: {problem}; {FRESH_HINT}")
        row = dict(row)
        row["config_digest"] = row["config"]
        row["config"] = configs[row["config"]]
        row["effective_config"] = configs[row["effective_config"]]
        measurements.append(Measurement.from_dict(row))
    return measurements


def read(path: Path) -> list[Measurement]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({exc.strerror}); {FRESH_HINT}") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not a text file; {FRESH_HINT}") from None
    if not text.strip():
        raise CheckpointError(f"{path}: the checkpoint is empty; {FRESH_HINT}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON, perhaps truncated (line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg}); {FRESH_HINT}") from None
    return decode(data, str(path))


def read_all(directory: Path) -> list[tuple[int, list[Measurement], dict[str, str]]]:
    """Every `<n>.ckpt` of the directory, in order: (n, its measurements, its testbed). A damaged one is a
    CheckpointError naming it, as for the latest."""
    latest_index(directory)  # names a file that is not a whole number
    paths = sorted(directory.glob(f"*{SUFFIX}"), key=lambda path: int(path.name[: -len(SUFFIX)]))
    return [(int(path.name[: -len(SUFFIX)]), read(path), read_testbed(path)) for path in paths]


def read_testbed(path: Path) -> dict[str, str]:
    """The testbed a checkpoint records ({} for one written before testbeds were recorded)."""
    try:
        testbed = json.loads(path.read_text(encoding="utf-8")).get("testbed", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in testbed.items()} if isinstance(testbed, dict) else {}


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(directory: Path, payload: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix=".ckpt-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def check_writable(directory: Path) -> None:
    """Before anything is measured: a directory that cannot take a checkpoint would lose the whole run at
    its end. Creates the directory, and writes, syncs and removes a small file in it (an immutable directory
    passes every permission check but this one; a full disk still lets an empty file be created)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write_temp(directory, b"\0" * 4096).unlink()
    except OSError as exc:
        raise CheckpointError(f"checkpoint_directory: cannot write checkpoints in {directory} "
                              f"({exc.strerror or exc}); nothing was measured") from None


class CheckpointStore:
    """One run's view of a checkpoint directory: what it loaded, and the one file it writes."""

    def __init__(self, directory: Path, fresh: bool = False) -> None:
        self.directory = directory
        self.loaded_index = latest_index(directory)
        self.loaded: dict[Setup, Measurement] = {}
        self.loaded_from: Path | None = None
        if not fresh and self.loaded_index >= 0:
            self.loaded_from = directory / f"{self.loaded_index}{SUFFIX}"
            self.loaded = {m.setup: m for m in read(self.loaded_from)}
        self.path: Path | None = None  # the file this run writes, once it has reserved one
        self.saved_count = 0
        self.testbed: dict[str, str] = {}  # what this run's checkpoint records as its testbed

    def save(self, measurements: Iterable[Measurement], interrupted: bool = False) -> Path:
        """Write every loaded and given measurement to this run's file (reserved on the first save);
        `saved_count` then says how many measurements the file holds."""
        merged, payload = self._payload(measurements, interrupted)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temp = _write_temp(self.directory, payload)
        except OSError as exc:
            raise CheckpointError(self._cannot_write(exc)) from None
        try:
            if self.path is None:
                self.path = self._reserve(temp)
            else:
                os.replace(temp, self.path)
            _fsync_directory(self.directory)
        except OSError as exc:
            raise CheckpointError(self._cannot_write(exc)) from None
        finally:
            with contextlib.suppress(OSError):
                temp.unlink()
        self.saved_count = len(merged)
        return self.path

    def save_elsewhere(self, measurements: Iterable[Measurement], places: Iterable[Path],
                       interrupted: bool = False) -> Path | None:
        """The checkpoint `save` could not write (a full disk), written whole and atomically in the first of
        `places` that can take it, as `unsaved-<time>-<pid>.ckpt`: moved into the checkpoint directory as its
        next index, it resumes the run. None when no place could take it. No partial file is left anywhere."""
        merged, payload = self._payload(measurements, interrupted)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for place in places:
            if place.resolve() == self.directory.resolve():
                continue
            try:
                place.mkdir(parents=True, exist_ok=True)
                temp = _write_temp(place, payload)
            except OSError:
                continue
            target = place / f"unsaved-{stamp}-{os.getpid()}{SUFFIX}"
            try:
                os.replace(temp, target)
            except OSError:
                with contextlib.suppress(OSError):
                    temp.unlink()
                continue
            _fsync_directory(place)
            self.saved_count = len(merged)
            return target
        return None

    def _payload(self, measurements: Iterable[Measurement],
                 interrupted: bool) -> tuple[dict[Setup, Measurement], bytes]:
        """Every loaded and given measurement, one per setup, and the file that holds them."""
        merged = dict(self.loaded)
        merged.update((m.setup, m) for m in measurements)
        return merged, json.dumps(encode(merged.values(), interrupted, self.testbed), separators=(",", ":")).encode()

    def checkpoint(self, index: int) -> tuple[Path, list[Measurement], dict[str, str]]:
        """Checkpoint `index` of the directory: its path, measurements and testbed (a baseline to compare with).
        A missing or damaged one is a CheckpointError naming it."""
        path = self.directory / f"{index}{SUFFIX}"
        if not path.exists():
            raise CheckpointError(f"{path} does not exist")
        return path, read(path), read_testbed(path)

    def every(self) -> list[tuple[int, list[Measurement], dict[str, str]]]:
        """Every checkpoint of the directory, in order (the history of a profile's runs)."""
        return read_all(self.directory)

    def next_index(self) -> int:
        """The index this run's checkpoint takes (or a file moved in to resume from)."""
        return max(self.loaded_index, latest_index(self.directory)) + 1

    def _reserve(self, temp: Path) -> Path:
        """Link the complete file under the next free index: exclusive, so concurrent runs never collide."""
        index = self.next_index()
        while True:
            target = self.directory / f"{index}{SUFFIX}"
            try:
                os.link(temp, target)
                return target
            except FileExistsError:
                index += 1

    def _cannot_write(self, exc: OSError) -> str:
        kept = f"; the previous checkpoint {self.loaded_from} is intact" if self.loaded_from else ""
        return f"cannot write a checkpoint in {self.directory}: {exc.strerror or exc}{kept}"
