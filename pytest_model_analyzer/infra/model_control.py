"""Puts a model-config variant on the server with Triton's load API and a config override.

No server restart: `load_model(name, config=json)` replaces the model's config in place. Triton's load
replaces the whole config, so the full config is sent: the repository's config as the server completed it
on the first plain load, with the variant's fields replaced. The default variant is sent back as that base
config (a plain `load_model(name)` would keep the last override). Only one model is kept loaded, with the
composing models it calls.

Over gRPC, not HTTP: a model's name is a field of the request there, while the HTTP API puts it in the URL
path, which this tritonserver does not percent-decode (`my model` would be looked up as `my%20model`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from pytest_model_analyzer.config.variants import Variant, apply_variant
from pytest_model_analyzer.domain.errors import PluginError, PointSkipped
from pytest_model_analyzer.domain.identity import canonical
from pytest_model_analyzer.infra.model_directory import write_model


class VariantLoadError(PluginError):
    """The server refused a variant; the message is the server's own."""


_NOT_EXPLICIT = "explicit model load / unload is not allowed"
WARM_UP_REQUESTS = 3
WARM_UP_SECONDS = 0.5


@dataclass(frozen=True)
class Side:
    """One version of a point's models to load: `model` with `variant`, served under the names `served_as`
    gives (an A/B run's baseline: `<model>__baseline`); `load_self` False for models profiled together, whose
    combination is no model of the server."""

    model: str
    variant: Variant
    load_self: bool = True
    served_as: Mapping[str, str] = field(default_factory=dict)

    @property
    def served(self) -> str:
        return self.served_as.get(self.model, self.model)

    @property
    def failure_key(self) -> tuple[str, str]:
        return self.served, self.variant.key()

    @property
    def wanted(self) -> list[tuple[str, Variant]]:
        """Each model to load with its variant, in order: the composing models before the model that calls them."""
        models = [*self.variant.composing, *([(self.model, self.variant)] if self.load_self else [])]
        return [(self.served_as.get(name, name), variant) for name, variant in models]

    @property
    def warmed(self) -> list[str]:
        """What is warmed up after the load: the model, or each model profiled together."""
        if self.load_self:
            return [self.served]
        return [self.served_as.get(name, name) for name, _ in self.variant.composing]


class ModelControl:
    def __init__(self, grpc_url: str, reload_disabled: bool = False, timeout: float = 600.0,
                 wait_for_unload: bool = False) -> None:
        self.url = grpc_url
        # Every call to the server ends within this many seconds (perf_analyzer_timeout): a frozen server
        # must end the run in a time the user set, not in a client's default wait.
        self.timeout = timeout
        self.client = self._connect(grpc_url)
        self.reload_disabled = reload_disabled
        self.base: dict[str, dict[str, Any]] = {}
        self.loaded: dict[str, str] = {}  # model -> canonical variant parameters now on the server
        self.effective: dict[str, dict[str, Any]] = {}  # model -> its config as the server reports it
        self.failed: dict[tuple[str, str], str] = {}
        # Triton unloads in the background: its unload call returns while the model still holds its memory.
        # An A/B run in swap mode (a model too large to hold twice) waits until it is gone before the next load.
        self.wait_for_unload = wait_for_unload

    @staticmethod
    def _connect(grpc_url: str) -> Any:
        return grpcclient.InferenceServerClient(grpc_url)

    def reset(self, grpc_url: str) -> None:
        """After a server restart nothing is loaded any more, and the server may listen elsewhere."""
        self.loaded.clear()
        self.effective.clear()
        if grpc_url != self.url:
            self.client.close()
            self.url, self.client = grpc_url, self._connect(grpc_url)

    def close(self) -> None:
        self.client.close()

    def config(self, model: str, deadline: float | None = None) -> dict[str, Any]:
        """The model's config as the server completed it (protobuf JSON, snake_case field names)."""
        return dict(self._call("get_model_config", model, deadline, as_json=True)["config"])

    def _budget(self, what: str, deadline: float | None) -> float:
        """How long the next call may take: the call timeout, or less when the measurement's deadline
        (time.monotonic()) is nearer: the calls of one load share the point's perf_analyzer_timeout."""
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise VariantLoadError(f"the point's perf_analyzer_timeout ({self.timeout:g} s) ran out before {what}")
        return min(self.timeout, left)

    def _call(self, what: str, model: str | None, deadline: float | None = None, **kwargs: Any) -> Any:
        """One call to the server, within the budget, its errors in words (`model` None: a call about no model)."""
        args, subject = ((), what) if model is None else ((model,), f"{what} {model}")
        try:
            return getattr(self.client, what)(*args, client_timeout=self._budget(subject, deadline), **kwargs)
        except InferenceServerException as exc:
            message = exc.message() if callable(getattr(exc, "message", None)) else str(exc)
            status = str(exc.status() if callable(getattr(exc, "status", None)) else "")
            if "DEADLINE_EXCEEDED" in status or "Deadline Exceeded" in str(message):
                raise VariantLoadError(f"{subject}: the server at {self.url} did not answer within "
                                       f"{self.timeout:g} s (perf_analyzer_timeout)") from None
            if "UNAVAILABLE" in status:
                raise VariantLoadError(f"{subject}: cannot reach the server at {self.url} "
                                       f"({message})") from None
            if _NOT_EXPLICIT in str(message):
                raise VariantLoadError(
                    f"the server is not in explicit model-control mode ({message}); start it with "
                    "--model-control-mode=explicit, or set reload_model_disable: true"
                ) from None
            raise VariantLoadError(f"{subject} failed: {message}") from None

    def ensure(self, model: str, variant: Variant, load_self: bool = True,
               served_as: Mapping[str, str] | None = None, beside: Collection[str] = (),
               deadline: float | None = None) -> dict[str, Any]:
        """Make `variant` the one the server serves, by `deadline` (time.monotonic(), the measurement's); returns
        its effective config as the server reports it.

        An ensemble's or BLS model's composing models are loaded first, each under its own name with its
        variant's config (an ensemble's steps and a BLS model's code call them by name), then the model itself;
        every other model is unloaded, except those named in `beside` (the other side of an A/B pair). Models
        profiled together are the composing models of a combination that is no model of the server
        (`load_self` False): they are loaded, and {} is returned. `served_as` maps a model to the name it is
        served under (an A/B run's baseline, `<model>__baseline`)."""
        side = Side(model, variant, load_self, served_as or {})
        if side.failure_key in self.failed:
            raise VariantLoadError(self.failed[side.failure_key])
        if self.reload_disabled:
            if not variant.is_default:
                raise PointSkipped("reload_model_disable is set: only the config already loaded is measured")
            return self.config(side.served, deadline)
        self.load_sides([side], beside, deadline)
        return self.served(side.served)

    def load_sides(self, sides: Sequence[Side], beside: Collection[str] = (), deadline: float | None = None) -> None:
        """What each side wants loaded, every other model unloaded but `beside`; each side warmed up after its
        load. Several sides (both of an A/B pair) load at once, each in a thread of its own: Triton loads
        models in parallel, and most of a Python model's load is its stub process starting. A side that fails
        is remembered (`failed`); the first failure is raised once every side ended."""
        if self.reload_disabled:
            return
        pending = [side for side in sides if side.failure_key not in self.failed and not self._holds(side)]
        if not pending:
            return
        keep = {name for side in sides for name, _ in side.wanted} | set(beside)
        unloaded = list(reversed([name for name in self.loaded if name not in keep]))
        for other in unloaded:
            self._call("unload_model", other, deadline)  # the model before the composing models it calls
            del self.loaded[other]
            self.effective.pop(other, None)
        if unloaded and self.wait_for_unload:
            self._wait_until_unloaded(unloaded, deadline)
        if len(pending) == 1:
            self._load_side(pending[0], deadline)
            return
        # Each side touches only its own models' entries of the state below (distinct names: `<model>__baseline`).
        with ThreadPoolExecutor(max_workers=len(pending), thread_name_prefix="ma-load") as pool:
            futures = [pool.submit(self._load_side, side, deadline) for side in pending]
        for future in futures:
            future.result()

    def _holds(self, side: Side) -> bool:
        return all(self.loaded.get(name) == canonical(v.parameters) and name in self.effective
                   for name, v in side.wanted)

    def _load_side(self, side: Side, deadline: float | None) -> None:
        try:
            for name, wanted_variant in side.wanted:
                self._load(name, wanted_variant, deadline)
        except VariantLoadError as exc:
            self.failed[side.failure_key] = f"{side.variant.name} did not load: {exc}"
            raise VariantLoadError(self.failed[side.failure_key]) from None
        for name in side.warmed:
            self.warm_up(name)

    def _wait_until_unloaded(self, models: list[str], deadline: float | None) -> None:
        """Until the repository index says none of `models` is ready or unloading, within the call timeout."""
        until = time.monotonic() + self.timeout
        if deadline is not None:
            until = min(until, deadline)
        while True:
            index = self._call("get_model_repository_index", None, deadline, as_json=True)
            busy = [entry["name"] for entry in index.get("models", []) if entry.get("name") in models
                    and entry.get("state") in ("READY", "UNLOADING", "LOADING")]
            if not busy:
                return
            if time.monotonic() > until:
                raise VariantLoadError(f"{', '.join(busy)} did not unload within {self.timeout:g} s "
                                       "(perf_analyzer_timeout)")
            time.sleep(0.05)

    def served(self, model: str) -> dict[str, Any]:
        """The config the server reported for `model` at its last load ({} when not loaded by this control). Shared
        by every measurement of the variant, not copied (a checkpoint stores it once): never changed in place."""
        return self.effective.get(model, {})

    def _load(self, model: str, variant: Variant, deadline: float | None) -> None:
        """Load one model with a variant's config, unless the server serves that config already."""
        key = canonical(variant.parameters)
        if self.loaded.get(model) == key and model in self.effective:
            return
        if model not in self.base:
            # A plain load keeps an override someone left loaded (a remote server, an earlier tool):
            # unload first, so that the base is the repository's config.
            with contextlib.suppress(VariantLoadError):
                self._call("unload_model", model, deadline)
            self._call("load_model", model, deadline)
            self.base[model] = self.config(model, deadline)
            self.loaded[model] = canonical({})
        if self.loaded.get(model) != key:
            config = apply_variant(self.base[model], variant)
            self.loaded.pop(model, None)
            self.effective.pop(model, None)
            self._call("load_model", model, deadline, config=json.dumps(config))
            self.loaded[model] = key
        self.effective[model] = self.config(model, deadline)

    def forget_failure(self, model: str, variant: Variant) -> None:
        """A load that failed because the server died says nothing about the variant: try it again (`model`:
        the name it is served under)."""
        self.failed.pop((model, variant.key()), None)

    def warm_up(self, model: str) -> None:
        """A few requests right after a load: the first measurement after a load otherwise runs cold (lazy
        initialisation in the backend, first connections). Best effort, bounded by WARM_UP_SECONDS: a model
        whose inputs cannot be made up here is measured cold, and its own measurement reports any error."""
        started = time.monotonic()
        # A client of its own with short timeouts: a model can take the server down with its first request
        # (the server's backend stub then holds the connection open), and a warm-up must not wait for that.
        client = grpcclient.InferenceServerClient(self.url)
        deadline = WARM_UP_SECONDS + 1
        try:
            metadata = client.get_model_metadata(model, as_json=True, client_timeout=deadline)
            inputs = []
            for spec in metadata.get("inputs", []):
                shape = [1 if int(size) < 0 else int(size) for size in spec["shape"]]
                data = np.zeros(shape, dtype=triton_to_np_dtype(spec["datatype"]))
                tensor = grpcclient.InferInput(spec["name"], shape, spec["datatype"])
                tensor.set_data_from_numpy(data)
                inputs.append(tensor)
            for _ in range(WARM_UP_REQUESTS):
                client.infer(model, inputs, client_timeout=deadline)
                if time.monotonic() - started > WARM_UP_SECONDS:
                    break
        except (InferenceServerException, OSError, KeyError, TypeError, ValueError):
            return  # the measurement that follows reports what is wrong (a dead server, a bad model)
        finally:
            client.close()


class RepositoryControl:
    """`triton_launch_mode: c_api`: no server to load a variant into. Each variant is written once as a model
    directory of its own, `<repository>/<variant>` (infra/model_directory.py: its config.pbtxt, the model's
    files linked), which perf_analyzer's in-process server loads by the variant's name. The effective config
    is the one written: no server completes it ahead of the measurement. `base_configs` are the models'
    config.pbtxt as the profile read them (once, for every use)."""

    def __init__(self, source: Path, repository: Path, base_configs: Mapping[str, Mapping[str, Any]]) -> None:
        self.source = source
        self.repository = repository
        self.base_configs = base_configs
        self.configs: dict[str, dict[str, Any]] = {}  # by variant name

    def ensure(self, model: str, variant: Variant, load_self: bool = True,
               served_as: Mapping[str, str] | None = None, beside: Collection[str] = (),
               deadline: float | None = None) -> dict[str, Any]:
        """`served_as` and `beside` serve A/B runs, which need a server of their own (never c_api); no server
        call to bound by the `deadline`."""
        if variant.name not in self.configs:
            config = apply_variant(self.base_configs[model], variant)
            try:
                write_model(self.repository, variant.name, config, self.source / model, override=True)
            except (OSError, ValueError) as exc:
                raise VariantLoadError(f"{variant.name} could not be written to {self.repository}: {exc}") from None
            self.configs[variant.name] = {**config, "name": variant.name}
        return self.configs[variant.name]

    def load_sides(self, sides: Sequence[Side], beside: Collection[str] = (), deadline: float | None = None) -> None:
        """Nothing is loaded ahead: c_api serves no A/B run, and each measurement writes its variant."""

    def served(self, model: str) -> dict[str, Any]:
        """No server reports configs ahead of the measurement (and c_api loads no composing models)."""
        return {}

    def forget_failure(self, model: str, variant: Variant) -> None:
        """Nothing is remembered: a failed write is tried again."""

    def reset(self, grpc_url: str) -> None:
        """No server to restart."""

    def close(self) -> None:
        """No connection to close."""
