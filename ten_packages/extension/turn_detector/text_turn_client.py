"""TEN Turn Detection over an OpenAI-compatible endpoint: the user's words so far -> finished/unfinished/wait."""

from __future__ import annotations

import re
import unicodedata

import openai

from .turn_policy import TurnState


class TextTurnError(RuntimeError):
    """The endpoint failed or answered something that is not one of the model's three labels."""


def strip_punctuation(text: str) -> str:
    """The text as TEN's model was trained on it: punctuation (any script) removed, spaces collapsed."""
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return re.sub(r"\s+", " ", kept).strip()


def parse_verdict(content: str) -> TurnState:
    """Map the model's answer to a state; it answers with one of its labels (case and padding vary)."""
    answer = content.strip().lower()
    for state in (TurnState.UNFINISHED, TurnState.FINISHED, TurnState.WAIT):
        if answer.startswith(state.value):
            return state
    raise TextTurnError(f"turn model answered {content!r}, expected finished, unfinished or wait")


class TextTurnClient:
    """One chat completion per question, with the settings TEN's turn detection model expects."""

    def __init__(
        self, base_url: str, api_key: str, model: str, temperature: float, top_p: float, timeout_ms: int
    ) -> None:
        self.model = model
        self.temperature = temperature
        self.top_p = top_p
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout_ms / 1000, max_retries=0
        )

    async def classify(self, text: str) -> TurnState:
        """Ask whether `text` is a finished turn; raises TextTurnError on any failure."""
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": strip_punctuation(text)}],
                max_tokens=1,
                temperature=self.temperature,
                top_p=self.top_p,
                stream=False,
            )
            content = completion.choices[0].message.content or ""
        except openai.OpenAIError as exc:
            raise TextTurnError(f"turn model request failed: {type(exc).__name__}: {exc}") from exc
        except (IndexError, AttributeError) as exc:
            raise TextTurnError(f"turn model sent a malformed completion: {exc}") from exc
        return parse_verdict(content)

    async def close(self) -> None:
        await self._client.close()
