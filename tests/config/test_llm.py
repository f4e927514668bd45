"""model_type: LLM: genai_perf_flags read and checked, each backend's requests built as genai-perf builds them,
the same prompts for every point, and one line for every bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_model_analyzer.config.builder import build_profile
from pytest_model_analyzer.config.llm import (
    PROMPT_WORDS,
    Backend,
    GenaiPerfFlags,
    parse_genai_perf_flags,
    prompts_of,
    synthetic_prompts,
)
from pytest_model_analyzer.config.points import variant_points
from pytest_model_analyzer.domain.errors import ConfigError
from pytest_model_analyzer.domain.identity import LLM_INPUTS_DIGEST
from pytest_model_analyzer.infra.perf_analyzer import PerfAnalyzerCall
from tests.support import MODELS


def llm_profile(tmp_path: Path, model: str = "llm_trtllm", **flags: Any) -> Any:
    raw = {"model_repository": str(MODELS), "model_type": "LLM", "profile_models": model,
           "run_config_search_disable": True, "genai_perf_flags": flags}
    return build_profile(raw, config_dir=tmp_path, cwd=tmp_path).models[0]


def write_tokenizer(path: Path) -> Path:
    """A word-level tokenizer built in-process (nothing downloaded): every vocabulary word one token."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    words = ["[UNK]", *(f"w{i}" for i in range(50)), *sorted(set(PROMPT_WORDS))]
    tokenizer = Tokenizer(WordLevel({word: i for i, word in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.save(str(path))
    return path


def test_tensorrtllm_requests_carry_text_input_max_tokens_and_stream(tmp_path: Path) -> None:
    model = llm_profile(tmp_path, **{"expected-output-tokens": 12, "input-tokens-mean": 30,
                                     "num-of-output-prompts": 5})
    assert model.llm is not None and model.llm.backend is Backend.TENSORRTLLM
    assert model.llm.streaming and model.llm.decoupled  # the model is decoupled: it streams unless told not to
    entries = model.llm.input_data()["data"]
    assert len(entries) == 5
    # genai-perf's TensorRT-LLM converter: max_tokens, min_length for a length held exactly, stream
    assert entries[0]["max_tokens"] == [12] and entries[0]["min_length"] == [12] and entries[0]["stream"] == [True]
    assert all(len(prompt.split()) == 30 for prompt in prompts_of(entries))
    assert model.perf_analyzer_flags["streaming"] == "true"  # perf_analyzer refuses a decoupled model without
    assert model.export_requests


def test_vllm_requests_carry_sampling_parameters_as_json(tmp_path: Path) -> None:
    model = llm_profile(tmp_path, "llm_vllm", backend="vllm", **{"output-tokens-mean": 9})
    entry = model.llm.input_data()["data"][0]
    assert set(entry) == {"text_input", "stream", "sampling_parameters", "exclude_input_in_output"}
    assert json.loads(entry["sampling_parameters"][0]) == {"max_tokens": "9"}  # no min_tokens: only a mean
    assert entry["exclude_input_in_output"] == [True]


def test_every_point_sends_the_same_prompts_and_a_new_seed_is_a_new_setup(tmp_path: Path) -> None:
    first = llm_profile(tmp_path, **{"random-seed": 1})
    again = llm_profile(tmp_path, **{"random-seed": 1})
    other = llm_profile(tmp_path, **{"random-seed": 2})
    assert first.llm.requests == again.llm.requests != other.llm.requests
    assert first.perf_analyzer_flags[LLM_INPUTS_DIGEST] != other.perf_analyzer_flags[LLM_INPUTS_DIGEST]
    setups = {next(iter(variant_points(m, m.variants[0]))).setup for m in (first, again, other)}
    assert len(setups) == 2
    # The digest is the plugin's record: perf_analyzer never sees it.
    command = PerfAnalyzerCall(Path("pa"), "m", (), 1, "concurrency", 1, first.perf_analyzer_flags).command(Path("o"))
    assert "--streaming" in command and not [arg for arg in command if LLM_INPUTS_DIGEST in arg]


@settings(max_examples=40, deadline=None)
@given(mean=st.integers(1, 60), stddev=st.floats(0, 20), prompts=st.integers(1, 30), seed=st.integers(0, 2**31))
def test_synthetic_prompts_are_seeded_and_as_long_as_asked(mean: int, stddev: float, prompts: int, seed: int) -> None:
    flags = GenaiPerfFlags(input_tokens_mean=mean, input_tokens_stddev=stddev, prompts=prompts, seed=seed)
    made = synthetic_prompts(flags)
    assert made == synthetic_prompts(flags) and len(made) == prompts
    assert all(len(prompt.split()) >= 1 for prompt in made)
    if not stddev:
        assert all(len(prompt.split()) == mean for prompt in made)


def test_a_tokenizer_cuts_prompts_to_their_token_count(tmp_path: Path) -> None:
    path = write_tokenizer(tmp_path / "tokenizer.json")
    model = llm_profile(tmp_path, tokenizer=str(tmp_path), **{"input-tokens-mean": 7, "num-of-output-prompts": 3})
    assert model.llm.tokenizer == path  # a directory names its tokenizer.json
    count = model.llm.reading().counter
    assert count is not None
    assert [count(prompt) for prompt in prompts_of(model.llm.requests)] == [7, 7, 7]


def test_an_input_of_variable_dims_carries_its_shape(tmp_path: Path) -> None:
    """perf_analyzer needs the shape of an input whose dims vary (an ensemble may declare text_input [-1])."""
    repo = tmp_path / "models"
    shutil.copytree(MODELS / "llm_trtllm", repo / "llm_trtllm")
    config = repo / "llm_trtllm" / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "text_input", data_type: TYPE_STRING, dims: [ 1 ]',
                                                 'name: "text_input", data_type: TYPE_STRING, dims: [ -1 ]'))
    raw = {"model_repository": str(repo), "model_type": "LLM", "profile_models": "llm_trtllm",
           "run_config_search_disable": True, "genai_perf_flags": {"input-tokens-mean": 3}}
    entry = build_profile(raw, cwd=tmp_path).models[0].llm.requests[0]
    assert entry["text_input"]["shape"] == [1] and len(entry["text_input"]["content"][0].split()) == 3
    assert entry["max_tokens"] == [256]  # fixed dims: the plain list; genai-perf's default length


def test_prompts_come_from_a_dataset_relative_to_the_yaml(tmp_path: Path) -> None:
    (tmp_path / "prompts.jsonl").write_text('{"text_input": "hello there"}\n\n{"text": "second one"}\n')
    model = llm_profile(tmp_path, **{"input-dataset": "prompts.jsonl"})
    assert prompts_of(model.llm.requests) == ["hello there", "second one"]


BAD = [
    ({"backend": "tgi"}, "genai_perf_flags.backend: unknown backend `tgi`: tensorrtllm or vllm"),
    ({"service-kind": "openai"}, "genai_perf_flags.service-kind: `openai`: the plugin measures Triton's own protocol"),
    ({"endpoint": "v1/chat/completions"}, "genai_perf_flags.endpoint: names an OpenAI-compatible route"),
    ({"url": "localhost:8001"}, "genai_perf_flags.url: the requests go to the server the run measures"),
    ({"tokenizer": "gpt2"}, "genai_perf_flags.tokenizer: no tokenizer at"),
    ({"input-dataset": "missing.jsonl"}, "genai_perf_flags.input-dataset: file not found:"),
    ({"input-dataset": "openorca"}, "genai_perf_flags.input-dataset: `openorca` is a dataset genai-perf downloads"),
    ({"input-type": "url"}, "genai_perf_flags.input-type: `url`: synthetic"),
    ({"input-type": "file"}, "genai_perf_flags.input-type: file needs input-dataset"),
    ({"expected-output-tokens": 0}, "genai_perf_flags.expected-output-tokens: must be a positive number of tokens"),
    ({"expected-output-tokens": 4, "output-tokens-mean": 5}, "genai_perf_flags.expected-output-tokens: set it or"),
    ({"output-tokens-stddev": 3}, "genai_perf_flags.output-tokens-stddev: needs output-tokens-mean"),
    ({"num-of-output-prompts": 100000}, "genai_perf_flags.num-of-output-prompts: 100,000 prompts requested"),
    ({"streming": True}, "genai_perf_flags.streming: unknown option (did you mean `streaming`?)"),
]


@pytest.mark.parametrize(("flags", "message"), BAD, ids=[str(flags) for flags, _ in BAD])
def test_a_bad_genai_perf_flag_is_one_line_naming_it(tmp_path: Path, flags: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_genai_perf_flags(flags, "genai_perf_flags", tmp_path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_malformed_tokenizer_or_dataset_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{not a tokenizer")
    with pytest.raises(ConfigError, match=r"tokenizer: .* is not a tokenizer the `tokenizers` library can read"):
        parse_genai_perf_flags({"tokenizer": "tokenizer.json"}, "genai_perf_flags", tmp_path)
    (tmp_path / "p.jsonl").write_text('{"text_input": "fine"}\n{"prompt": 3}\n')
    with pytest.raises(ConfigError, match=r"p.jsonl line 2: expected"):
        llm_profile(tmp_path, **{"input-dataset": "p.jsonl"})


def test_the_model_must_have_the_interface_of_its_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"profile_models.add: model_type LLM sends each prompt as `text_input`, and "
                                          r"`add` has no such input \(its inputs: INPUT0\)"):
        llm_profile(tmp_path, "add")
    with pytest.raises(ConfigError, match=r"the tensorrtllm interface needs the input max_tokens, which `llm_vllm` "
                                          r"lacks; its inputs look like the vllm interface: set genai_perf_flags."
                                          r"backend: vllm"):
        llm_profile(tmp_path, "llm_vllm")


@pytest.mark.parametrize(("extra", "message"), [
    ({"client_protocol": "http"}, "client_protocol: `llm_trtllm` is decoupled: perf_analyzer streams it over grpc"),
    ({"perf_analyzer_flags": {"input-data": "x.json"}}, "perf_analyzer_flags.input-data: model_type LLM builds"),
    ({"run_config_search_disable": False, "run_config_search_mode": "quick"},
     "run_config_search_mode: quick search of LLM models is not supported yet"),
    ({"model_type": "generic"}, "genai_perf_flags: applies to LLM models only: set model_type: LLM"),
    ({"model_type": "large"}, "model_type: must be generic or LLM, got `large`"),
])
def test_what_llm_mode_cannot_serve_is_one_line(tmp_path: Path, extra: dict[str, Any], message: str) -> None:
    raw = {"model_repository": str(MODELS), "model_type": "LLM", "profile_models": "llm_trtllm",
           "run_config_search_disable": True, "genai_perf_flags": {}, **extra}
    with pytest.raises(ConfigError) as error:
        build_profile(raw, cwd=tmp_path)
    assert message in str(error.value)


def test_a_streaming_model_profiled_as_generic_is_told_at_collection(tmp_path: Path) -> None:
    raw = {"model_repository": str(MODELS), "profile_models": "llm_vllm", "run_config_search_disable": True}
    with pytest.raises(ConfigError, match=r"profile_models.llm_vllm: `llm_vllm` is decoupled and takes `text_input`: "
                                          r"an LLM that streams tokens; profile it with model_type: LLM"):
        build_profile(raw, cwd=tmp_path)


def test_a_token_slo_needs_a_streaming_llm(tmp_path: Path) -> None:
    raw = {"model_repository": str(MODELS), "profile_models": "add", "run_config_search_disable": True,
           "slo": {"time_to_first_token": 50}}
    with pytest.raises(ConfigError, match=r"slo: time_to_first_token is a streaming LLM's"):
        build_profile(raw, cwd=tmp_path)
    raw = {"model_repository": str(MODELS), "model_type": "LLM", "profile_models": "llm_trtllm",
           "run_config_search_disable": True, "slo": {"time_to_first_token": 50, "inter_token_latency": 12}}
    assert build_profile(raw, cwd=tmp_path).models[0].slo == {"time_to_first_token": 50.0, "inter_token_latency": 12.0}


def test_without_a_tokenizer_the_run_says_how_it_counts(tmp_path: Path) -> None:
    raw = {"model_repository": str(MODELS), "model_type": "LLM", "profile_models": "llm_trtllm",
           "run_config_search_disable": True}
    (warning,) = build_profile(raw, cwd=tmp_path).warnings
    assert warning.startswith("`llm_trtllm` has no tokenizer (genai_perf_flags.tokenizer): one streamed response "
                              "counts as one token")
    write_tokenizer(tmp_path / "tokenizer.json")
    assert not build_profile({**raw, "genai_perf_flags": {"tokenizer": str(tmp_path)}}, cwd=tmp_path).warnings


def test_model_type_is_read_case_blind_as_model_analyzers_wrapper_does(tmp_path: Path) -> None:
    raw = {"model_repository": str(MODELS), "model_type": "llm", "profile_models": "llm_trtllm",
           "run_config_search_disable": True}
    assert build_profile(raw, cwd=tmp_path).models[0].llm is not None
