"""How an LLM point's responses are read into tokens: a plain type the config builds and the analysis uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]  # the tokens of a text, by the model's tokenizer


@dataclass(frozen=True)
class TokenReading:
    """Whether an LLM point's responses stream (a token a response), and the tokenizer that counts, if any."""

    streaming: bool
    counter: TokenCounter | None = None
