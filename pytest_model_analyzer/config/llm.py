"""`model_type: LLM`: Model Analyzer's `genai_perf_flags`, typed, and the requests an LLM point sends.

Model Analyzer hands an LLM to genai-perf, which builds each backend's request from prompts and runs
perf_analyzer with them. Here the same requests are built (genai-perf's converters for TensorRT-LLM and the
vLLM backend) and written as perf_analyzer's `--input-data`, so that every point of a model, and both sides of
an A/B pair, send the same prompts: their digest is part of what a point is measured under (its Setup), and a
changed prompt set is measured again, never reused from a checkpoint.

Every key of `genai_perf_flags` acts or stops the run with one line naming it; nothing is downloaded at run time
(genai-perf's default tokenizer and its named datasets come from a hub: here a tokenizer is a local path and a
dataset a local file).
"""

from __future__ import annotations

import enum
import functools
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_model_analyzer.config import values as v
from pytest_model_analyzer.config.names import check_keys
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import LLM_INPUTS_DIGEST, digest
from pytest_model_analyzer.domain.tokens import TokenCounter, TokenReading


class ModelType(enum.Enum):
    """`model_type`, with Model Analyzer's spellings as values."""

    GENERIC = "generic"
    LLM = "LLM"


def parse_model_type(value: Any, key: str) -> ModelType:
    """generic or LLM, in any case (Model Analyzer's perf_analyzer wrapper compares it case-blind)."""
    text = v.parse_str(value, key)
    for model_type in ModelType:
        if text.lower() == model_type.value.lower():
            return model_type
    raise ConfigError(key, f"must be {' or '.join(t.value for t in ModelType)}, got `{text}`")


class Backend(enum.Enum):
    """The Triton interface an LLM is served with (genai-perf's `--backend`)."""

    TENSORRTLLM = "tensorrtllm"
    VLLM = "vllm"


GENAI_PERF_KEYS = frozenset({
    "backend", "endpoint", "service-kind", "url", "expected-output-tokens", "output-tokens-mean",
    "output-tokens-stddev", "input-dataset", "input-tokens-mean", "input-tokens-stddev", "input-type",
    "num-of-output-prompts", "random-seed", "streaming", "tokenizer",
})
# genai-perf's defaults (its input_constants): prompt length, prompts generated, seed, and the max_tokens it sends
# TensorRT-LLM when no output length is asked for.
DEFAULT_INPUT_TOKENS_MEAN = 550
DEFAULT_PROMPTS = 100
DEFAULT_SEED = 0
TENSORRTLLM_DEFAULT_MAX_TOKENS = 256
MAX_PROMPTS = 10_000
TEXT_INPUT = "text_input"
# The inputs of each interface that a request may carry (TensorRT-LLM's ensemble, the vLLM backend's model).
_REQUIRED = {Backend.TENSORRTLLM: (TEXT_INPUT, "max_tokens"), Backend.VLLM: (TEXT_INPUT,)}
_TELLTALE = {Backend.TENSORRTLLM: "max_tokens", Backend.VLLM: "sampling_parameters"}
# Named datasets genai-perf downloads from the Hugging Face hub.
_HUB_DATASETS = frozenset({"openorca", "cnn_dailymail"})
# Words the synthetic prompts are made of (common English, one token each in most tokenizers).
_PROMPT_TEXT = """
the of and to in is was for on are with as his they be at one have this from or had by word but what some we
can out other were all there when up use your how said an each she which do their time if will way about many
then them write would like so these her long make thing see him two has look more day could go come did number
sound no most people my over know water than call first who may down side been now find any new work part take
get place made live where after back little only round man year came show every good me give our under name
very through just form sentence great think say help low line differ turn cause much mean before move right
boy old too same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house picture try us
again animal point mother world near build self earth father head stand own page should country found answer
school grow study still learn plant cover food sun four between state keep eye never last let thought city
tree cross farm hard start might story saw far sea draw left late run while press close night real life few
north open seem together next white children begin got walk example ease paper group always music those both
mark often letter until mile river car feet care second book carry took science eat room friend began idea
fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young
ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door
product black short numeral class wind question happen complete ship area half rock order fire south problem
piece told knew pass since top whole king space heard best hour better true during hundred five remember step
early hold west ground interest reach fast verb sing listen six table travel less morning ten simple several
vowel toward war lay against pattern slow center love person money serve appear road map rain rule govern pull
cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box
noun field rest correct able pound done beauty drive stood contain front teach week final gave green quick
develop ocean warm free minute strong special mind behind clear tail produce fact street inch multiply nothing
course stay wheel full force blue object decide surface deep moon island foot system busy test record boat
common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat
snow tire bring yes distant fill east paint language among
"""
PROMPT_WORDS = tuple(_PROMPT_TEXT.split())


@dataclass(frozen=True)
class GenaiPerfFlags:
    """`genai_perf_flags`, read and checked; what is not set is None (the model's config decides)."""

    backend: Backend = Backend.TENSORRTLLM
    streaming: bool | None = None  # None: stream when the model is decoupled
    input_tokens_mean: int = DEFAULT_INPUT_TOKENS_MEAN
    input_tokens_stddev: float = 0.0
    output_tokens_mean: int | None = None
    output_tokens_stddev: float = 0.0
    deterministic: bool = False  # expected-output-tokens: min_length / min_tokens hold the length exactly
    dataset: Path | None = None  # a JSONL file of prompts
    prompts: int = DEFAULT_PROMPTS
    prompts_set: bool = False
    seed: int = DEFAULT_SEED
    tokenizer: Path | None = None  # a tokenizer.json (a directory's is resolved to its file)


def _path(value: Any, key: str, base: Path) -> Path:
    path = Path(os.path.expanduser(v.parse_str(value, key)))
    return path if path.is_absolute() else base / path


def parse_genai_perf_flags(value: Any, key: str, base: Path) -> GenaiPerfFlags:
    """Each key acts or is refused here with one line that says why."""
    flags = v.parse_dict(value, key)
    check_keys(flags, GENAI_PERF_KEYS, key)
    service = flags.get("service-kind")
    if service is not None and v.parse_str(service, f"{key}.service-kind") != "triton":
        raise ConfigError(f"{key}.service-kind", f"`{service}`: the plugin measures Triton's own protocol (triton); "
                          "an OpenAI-compatible front end is not measured here")
    if flags.get("endpoint") is not None:
        raise ConfigError(f"{key}.endpoint", "names an OpenAI-compatible route (service-kind openai); Triton's own "
                          "protocol, which the plugin measures, has none: remove it")
    if flags.get("url") is not None:
        raise ConfigError(f"{key}.url", "the requests go to the server the run measures: set triton_grpc_endpoint "
                          "(triton_launch_mode: remote) to measure a server of your own")
    backend_name = v.parse_str(flags.get("backend", Backend.TENSORRTLLM.value), f"{key}.backend")
    try:
        backend = Backend(backend_name)
    except ValueError:
        raise ConfigError(f"{key}.backend", f"unknown backend `{backend_name}`: tensorrtllm or vllm") from None
    streaming = v.parse_bool(flags["streaming"], f"{key}.streaming") if "streaming" in flags else None
    input_mean = _positive(flags.get("input-tokens-mean", DEFAULT_INPUT_TOKENS_MEAN), f"{key}.input-tokens-mean")
    input_stddev = _spread(flags.get("input-tokens-stddev", 0), f"{key}.input-tokens-stddev")
    expected = flags.get("expected-output-tokens")
    mean_given = flags.get("output-tokens-mean")
    if expected is not None and mean_given is not None:
        raise ConfigError(f"{key}.expected-output-tokens", "set it or output-tokens-mean, not both (expected-output-"
                          "tokens is the mean, held exactly)")
    output_mean = (_positive(expected, f"{key}.expected-output-tokens") if expected is not None
                   else _positive(mean_given, f"{key}.output-tokens-mean") if mean_given is not None else None)
    output_stddev = _spread(flags.get("output-tokens-stddev", 0), f"{key}.output-tokens-stddev")
    if output_stddev and output_mean is None:
        raise ConfigError(f"{key}.output-tokens-stddev", "needs output-tokens-mean")
    dataset = _path(flags["input-dataset"], f"{key}.input-dataset", base) if "input-dataset" in flags else None
    if dataset is not None and str(flags["input-dataset"]) in _HUB_DATASETS:
        raise ConfigError(f"{key}.input-dataset", f"`{flags['input-dataset']}` is a dataset genai-perf downloads "
                          "from the Hugging Face hub, and nothing is downloaded at run time: give a local JSONL file "
                          "of prompts ({\"text_input\": \"...\"} a line)")
    if dataset is not None and not dataset.is_file():
        raise ConfigError(f"{key}.input-dataset", f"file not found: {dataset}")
    input_type = v.parse_str(flags.get("input-type", "file" if dataset else "synthetic"), f"{key}.input-type")
    if input_type not in ("synthetic", "file"):
        raise ConfigError(f"{key}.input-type", f"`{input_type}`: synthetic (prompts made here) or file "
                          "(input-dataset); nothing is downloaded at run time")
    if input_type == "file" and dataset is None:
        raise ConfigError(f"{key}.input-type", "file needs input-dataset, the JSONL file of prompts")
    if input_type == "synthetic" and dataset is not None:
        raise ConfigError(f"{key}.input-type", "synthetic prompts are made here: drop input-dataset, or say file")
    prompts = _positive(flags.get("num-of-output-prompts", DEFAULT_PROMPTS), f"{key}.num-of-output-prompts")
    if prompts > MAX_PROMPTS:
        raise ConfigError(f"{key}.num-of-output-prompts", f"{prompts:,} prompts requested; the limit is "
                          f"{MAX_PROMPTS:,}")
    seed = v.parse_int(flags.get("random-seed", DEFAULT_SEED), f"{key}.random-seed")
    tokenizer = _tokenizer_path(flags["tokenizer"], f"{key}.tokenizer", base) if "tokenizer" in flags else None
    return GenaiPerfFlags(backend, streaming, input_mean, input_stddev, output_mean, output_stddev,
                          deterministic=expected is not None, dataset=dataset, prompts=prompts,
                          prompts_set="num-of-output-prompts" in flags, seed=seed, tokenizer=tokenizer)


def _positive(value: Any, key: str) -> int:
    number = v.parse_int(value, key)
    if number <= 0:
        raise ConfigError(key, f"must be a positive number of tokens, got {number}")
    return number


def _spread(value: Any, key: str) -> float:
    number = v.parse_float(value, key)
    if number < 0:
        raise ConfigError(key, f"must be 0 or more, got {number:g}")
    return number


def _tokenizer_path(value: Any, key: str, base: Path) -> Path:
    path = _path(value, key, base)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(key, f"no tokenizer at {path}: give a local tokenizer.json or the directory that holds it "
                          "(nothing is downloaded at run time)")
    load_tokenizer(path, key)
    return path


@functools.cache
def _tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def load_tokenizer(path: Path, key: str = "genai_perf_flags.tokenizer") -> TokenCounter:
    """The token count of a text by the tokenizer at `path` (Hugging Face's `tokenizers`, the library genai-perf's
    tokenizers run on), without special tokens, as genai-perf counts."""
    try:
        tokenizer = _tokenizer(path)
    except ImportError:
        raise ConfigError(key, "counting tokens needs the `tokenizers` library: install the plugin with its `llm` "
                          "extra, or `pip install tokenizers`") from None
    except Exception as exc:  # the library raises its own Exception for a file it cannot read
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(key, f"{path} is not a tokenizer the `tokenizers` library can read: {first}") from None

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count


@dataclass(frozen=True)
class LLMSpec:
    """How an LLM model is measured: its interface, whether it streams, and the requests every point sends."""

    backend: Backend
    streaming: bool  # the `stream` input: a token a response, TTFT and ITL measured
    decoupled: bool  # served with Triton's decoupled transaction policy: perf_analyzer must stream (gRPC)
    requests: tuple[Mapping[str, Any], ...]  # perf_analyzer's input-data entries, one a prompt
    tokenizer: Path | None = None

    @functools.cached_property
    def digest(self) -> str:
        """What a point's setup records of the requests: a changed prompt set is measured again. Computed once
        (the measurer names each point's input file by it)."""
        return digest([self.backend.value, self.streaming, list(self.requests)])

    def input_data(self) -> dict[str, Any]:
        return {"data": list(self.requests)}

    def reading(self) -> TokenReading:
        return TokenReading(self.streaming, load_tokenizer(self.tokenizer) if self.tokenizer else None)


def _inputs(base_config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(tensor.get("name")): tensor for tensor in base_config.get("input") or []}


def is_decoupled(base_config: Mapping[str, Any]) -> bool:
    return bool((base_config.get("model_transaction_policy") or {}).get("decoupled"))


def check_generic(name: str, base_config: Mapping[str, Any], flags: Mapping[str, Any], protocol: str) -> None:
    """A decoupled model profiled as a generic one: perf_analyzer refuses it without --streaming over gRPC,
    and a streaming LLM fed random inputs (a random max_tokens) runs into the timeout. Told here, at collection."""
    if not is_decoupled(base_config):
        return
    where = f"profile_models.{name}"
    if TEXT_INPUT in _inputs(base_config):
        raise ConfigError(where, f"`{name}` is decoupled and takes `{TEXT_INPUT}`: an LLM that streams tokens; "
                          "profile it with model_type: LLM (and genai_perf_flags), or random inputs make its "
                          "requests run until the timeout")
    if str(flags.get("streaming", "false")).lower() not in ("", "true"):
        raise ConfigError(where, f"`{name}` is decoupled (model_transaction_policy): perf_analyzer measures it only "
                          "with perf_analyzer_flags: {streaming: true} over gRPC")
    if protocol != "grpc":
        raise ConfigError("client_protocol", f"`{name}` is decoupled: perf_analyzer streams it over grpc only")


def llm_spec(name: str, flags: GenaiPerfFlags, base_config: Mapping[str, Any], key: str, protocol: str,
             decoupled: bool) -> LLMSpec:
    """The model's interface checked against its config (when the repository holds one) and its requests built.
    `decoupled`: the model, or a model its ensemble calls, streams its responses (a remote model without a
    repository is taken to)."""
    inputs = _inputs(base_config)
    known = bool(inputs)
    decoupled = decoupled or not base_config
    if known:
        if TEXT_INPUT not in inputs:
            raise ConfigError(f"profile_models.{name}", f"model_type LLM sends each prompt as `{TEXT_INPUT}`, and "
                              f"`{name}` has no such input (its inputs: {', '.join(inputs)})")
        missing = [tensor for tensor in _REQUIRED[flags.backend] if tensor not in inputs]
        if missing:
            other = next(backend for backend in Backend if backend is not flags.backend)
            hint = (f"; its inputs look like the {other.value} interface: set {key}.backend: {other.value}"
                    if _TELLTALE[other] in inputs else "")
            raise ConfigError(f"{key}.backend", f"the {flags.backend.value} interface needs the input "
                              f"{', '.join(missing)}, which `{name}` lacks{hint}")
    streaming = decoupled if flags.streaming is None else flags.streaming
    if streaming and base_config and not decoupled:
        raise ConfigError(f"{key}.streaming", f"`{name}` is not decoupled (model_transaction_policy), so it cannot "
                          "stream its tokens: set streaming: false, or serve it decoupled")
    if decoupled and protocol != "grpc":
        raise ConfigError("client_protocol", f"`{name}` is decoupled: perf_analyzer streams it over grpc only")
    prompts = (read_dataset(flags.dataset, f"{key}.input-dataset", flags.prompts if flags.prompts_set else None)
               if flags.dataset else synthetic_prompts(flags))
    requests = tuple(request_entry(flags, prompt, length, streaming, inputs if known else None)
                     for prompt, length in zip(prompts, output_lengths(flags, len(prompts)), strict=True))
    return LLMSpec(flags.backend, streaming, decoupled, requests, flags.tokenizer)


def llm_flags(llm: LLMSpec) -> dict[str, str]:
    """What an LLM point adds to its perf_analyzer flags: streaming for a decoupled model (perf_analyzer refuses
    one without it), and the requests' digest (a record of the plugin's, never passed; the file itself is
    written where perf_analyzer runs: infra/measurer.py)."""
    return {**({"streaming": "true"} if llm.decoupled else {}), LLM_INPUTS_DIGEST: llm.digest}


def _gauss_count(rng: random.Random, mean: int, stddev: float) -> int:
    return max(1, round(rng.gauss(mean, stddev))) if stddev else mean


def synthetic_prompts(flags: GenaiPerfFlags) -> list[str]:
    """`num-of-output-prompts` prompts of `input-tokens-mean` ± stddev tokens, the same for the same seed.
    Without a tokenizer a prompt is that many words; with one, words are cut to that many tokens."""
    rng = random.Random(flags.seed)
    prompts = []
    for _ in range(flags.prompts):
        length = _gauss_count(rng, flags.input_tokens_mean, flags.input_tokens_stddev)
        text = " ".join(rng.choice(PROMPT_WORDS) for _ in range(length))
        if flags.tokenizer is not None:
            text = _cut_to_tokens(text, length, flags.tokenizer)
        prompts.append(text)
    return prompts


def _cut_to_tokens(text: str, length: int, path: Path) -> str:
    tokenizer = _tokenizer(path)
    ids = tokenizer.encode(text, add_special_tokens=False).ids[:length]
    return str(tokenizer.decode(ids))


def output_lengths(flags: GenaiPerfFlags, count: int) -> list[int | None]:
    """Each request's output length (max_tokens), seeded apart from the prompts; None: the backend's default."""
    if flags.output_tokens_mean is None:
        return [None] * count
    rng = random.Random(f"output-{flags.seed}")
    return [_gauss_count(rng, flags.output_tokens_mean, flags.output_tokens_stddev) for _ in range(count)]


def request_entry(flags: GenaiPerfFlags, prompt: str, length: int | None, streaming: bool,
                  inputs: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """One request as genai-perf's converter for the backend builds it (in perf_analyzer's input-data form).
    Optional inputs the model's config does not declare are left out (the server would refuse them)."""
    entry: dict[str, Any] = {TEXT_INPUT: [prompt]}
    if flags.backend is Backend.TENSORRTLLM:
        entry["max_tokens"] = [length if length is not None else TENSORRTLLM_DEFAULT_MAX_TOKENS]
        if flags.deterministic and length is not None:
            entry["min_length"] = [length]
    else:
        entry["exclude_input_in_output"] = [True]
        if length is not None:
            parameters = {"max_tokens": str(length)}
            if flags.deterministic:
                parameters["min_tokens"] = str(length)
            entry["sampling_parameters"] = [json.dumps(parameters)]
    entry["stream"] = [streaming]
    if inputs is not None:
        entry = {name: _shaped(value, inputs[name]) for name, value in entry.items() if name in inputs}
    return entry


def _shaped(value: list[Any], tensor: Mapping[str, Any]) -> Any:
    """An input whose dims vary (`[-1]`, as some ensembles declare `text_input`) needs its shape beside its
    content in perf_analyzer's input data; a fixed one takes the plain list."""
    if any(int(dim) < 0 for dim in tensor.get("dims") or []):
        return {"content": value, "shape": [len(value)]}
    return value


def read_dataset(path: Path, key: str, limit: int | None) -> list[str]:
    """Prompts from a JSONL file, `{"text_input": "..."}` (or genai-perf's `{"text": "..."}`) a line."""
    lines = v.read_lines(path, key)
    prompts = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ConfigError(key, f"{path} line {number}: not JSON (one {{\"text_input\": \"...\"}} a line)") from None
        text = record.get(TEXT_INPUT, record.get("text")) if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(key, f"{path} line {number}: expected {{\"text_input\": \"a prompt\"}}")
        prompts.append(text)
        if len(prompts) > MAX_PROMPTS:
            raise ConfigError(key, f"{path} holds more than {MAX_PROMPTS:,} prompts")
    if not prompts:
        raise ConfigError(key, f"{path} holds no prompt")
    return prompts[:limit] if limit else prompts


def prompts_of(requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The prompts of input-data entries, in their plain or shaped form."""
    values = [entry[TEXT_INPUT] for entry in requests]
    return [str((value["content"] if isinstance(value, Mapping) else value)[0]) for value in values]
