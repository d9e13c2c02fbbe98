"""Where semantic tokens come from: Spark's language model in production, a script in tests and benchmarks.

Both hand out an utterance's speaker (global) tokens and then its semantic tokens one by one, as they are
generated, so the streaming decoder can start before generation ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Protocol


class SpeechTokenStream(Protocol):
    """The tokens of one utterance, produced lazily."""

    def global_tokens(self) -> list[int]:
        """The speaker tokens; known once the first semantic token has been yielded."""
        ...

    def __iter__(self) -> Iterator[int]:
        """Semantic token ids (BiCodec codebook indices) in order, each as soon as it is generated."""
        ...


class TokenSource(Protocol):
    def open(self, text: str) -> SpeechTokenStream:
        """Start generating the tokens that speak `text`."""
        ...


class ScriptedTokenStream:
    """Fixed tokens, optionally paced like a language model generating them."""

    def __init__(
        self, global_tokens: Sequence[int], semantic_tokens: Sequence[int], seconds_per_token: float
    ):
        self._global_tokens = list(global_tokens)
        self._semantic_tokens = list(semantic_tokens)
        self._seconds_per_token = seconds_per_token
        self.tokens_generated = 0

    def global_tokens(self) -> list[int]:
        return self._global_tokens

    def __iter__(self) -> Iterator[int]:
        for token in self._semantic_tokens:
            if self._seconds_per_token:
                time.sleep(self._seconds_per_token)
            self.tokens_generated += 1
            yield token


class ScriptedTokenSource:
    """Gives every text the same scripted tokens: a random LM cannot produce a meaningful token stream."""

    def __init__(
        self, global_tokens: Sequence[int], semantic_tokens: Sequence[int], seconds_per_token: float = 0.0
    ) -> None:
        self.global_tokens = list(global_tokens)
        self.semantic_tokens = list(semantic_tokens)
        self.seconds_per_token = seconds_per_token
        self.opened: list[ScriptedTokenStream] = []

    def open(self, text: str) -> ScriptedTokenStream:
        stream = ScriptedTokenStream(self.global_tokens, self.semantic_tokens, self.seconds_per_token)
        self.opened.append(stream)
        return stream
