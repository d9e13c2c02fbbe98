"""Spark-TTS through mlx-audio: loading (local folder or hub), prompts, token generation and BiCodec decoding.

Everything here touches MLX, whose arrays and streams belong to the thread that made them: call it only from
the extension's single MLX thread.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np

GENDERS = ("female", "male")
LEVELS = ("very_low", "low", "moderate", "high", "very_high")
_AUDIO_TOKEN = re.compile(r"^<\|bicodec_(semantic|global)_(\d+)\|>$")
# Markers Spark's LM writes around its audio tokens: allowed, never spoken.
_GLOBAL_MARKERS = ("<|start_global_token|>", "<|end_global_token|>")
_SEMANTIC_MARKERS = ("<|start_semantic_token|>", "<|end_semantic_token|>")


class SparkModelUnavailable(RuntimeError):
    """The model could not be found locally nor downloaded."""


class SparkGenerationError(RuntimeError):
    """The language model produced a token stream that cannot be spoken."""


@dataclass(frozen=True)
class SparkVoice:
    """Voice creation (gender, pitch, speed) or, when `ref_audio` is set, voice cloning."""

    gender: str = "female"
    pitch: str = "moderate"
    speed: str = "moderate"
    ref_audio: str = ""
    ref_text: str = ""

    def __post_init__(self) -> None:
        if self.gender not in GENDERS:
            raise ValueError(f"gender must be one of {GENDERS}, got {self.gender!r}")
        for name, value in (("pitch", self.pitch), ("speed", self.speed)):
            if value not in LEVELS:
                raise ValueError(f"{name} must be one of {LEVELS}, got {value!r}")
        if self.ref_audio and not Path(self.ref_audio).expanduser().is_file():
            raise ValueError(f"ref_audio {self.ref_audio!r} is not a file")


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    max_tokens: int = 2000
    repetition_penalty: float = 1.3


def resolve_model_path(model: str) -> Path:
    """A local folder as is; otherwise a Hugging Face repo id, downloaded with huggingface_hub's progress bars."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise SparkModelUnavailable(f"Spark-TTS model folder {model!r} does not exist")
    from huggingface_hub import snapshot_download
    from mlx_audio.utils import DEFAULT_ALLOW_PATTERNS

    try:
        return Path(snapshot_download(model, allow_patterns=DEFAULT_ALLOW_PATTERNS))
    except Exception as error:  # noqa: BLE001 - every hub failure means the same thing to the user
        raise SparkModelUnavailable(
            f"could not download Spark-TTS model {model!r} from the Hugging Face hub ({error}). "
            "Connect to the hub once, or set the `model` property to a local model folder."
        ) from error


class SparkModel:
    """mlx-audio's Spark-TTS model with what streaming needs: token id maps, prompts and BiCodec decode."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.audio_tokenizer = spark._audio_tokenizer
        # mlx-audio evaluates only the LM; BiCodec's and wav2vec2's batch norms must not use batch statistics.
        self.audio_tokenizer.model.eval()
        self.audio_tokenizer.feature_extractor.eval()
        self.tokenizer = spark.tokenizer
        tokenizer_config = self.audio_tokenizer.config
        self.sample_rate: int = int(tokenizer_config["sample_rate"])
        self.samples_per_token: int = int(tokenizer_config["latent_hop_length"])
        self.global_token_count: int = int(
            self.audio_tokenizer.model.speaker_encoder.perceiver_sampler.latents.shape[0]
        )
        self.semantic_index: dict[int, int] = {}
        self.global_index: dict[int, int] = {}
        vocab: dict[str, int] = self.tokenizer.get_vocab()
        for token, token_id in vocab.items():
            match = _AUDIO_TOKEN.match(token)
            if match:
                index = self.semantic_index if match.group(1) == "semantic" else self.global_index
                index[token_id] = int(match.group(2))
        if not self.semantic_index or not self.global_index:
            raise SparkModelUnavailable(
                "the model's tokenizer has no <|bicodec_semantic_N|> / <|bicodec_global_N|> tokens"
            )
        self.marker_ids = {
            kind: [vocab[m] for m in markers if m in vocab]
            for kind, markers in (("global", _GLOBAL_MARKERS), ("semantic", _SEMANTIC_MARKERS))
        }
        eos = {int(spark.config.eos_token_id)}
        if self.tokenizer.eos_token_id is not None:
            eos.add(int(self.tokenizer.eos_token_id))
        self.stop_ids = eos
        self.vocab_size = int(spark.config.vocab_size)

    @classmethod
    def load(cls, model: str) -> SparkModel:
        from mlx_audio.tts.utils import load_model

        path = resolve_model_path(model)
        try:
            spark = load_model(path)
        except (FileNotFoundError, ValueError, KeyError) as error:
            raise SparkModelUnavailable(f"{path} is not a loadable Spark-TTS model: {error}") from error
        return cls(spark)

    def decode(self, global_tokens: Sequence[int], semantic_tokens: Sequence[int]) -> np.ndarray:
        """BiCodec: speaker + semantic tokens to a float32 waveform, samples_per_token samples per token."""
        audio = self.audio_tokenizer.detokenize(
            mx.array([[int(t) for t in global_tokens]], dtype=mx.int32),
            mx.array([[int(t) for t in semantic_tokens]], dtype=mx.int32),
        )
        return np.array(audio, dtype=np.float32).reshape(-1)

    def reference_tokens(self, ref_audio: str) -> tuple[list[int], list[int]]:
        """Speaker and semantic tokens of a reference recording (wav2vec2 features + BiCodec encoder)."""
        global_ids, semantic_ids = self.audio_tokenizer.tokenize(str(Path(ref_audio).expanduser()))
        return np.array(global_ids).reshape(-1).tolist(), np.array(semantic_ids).reshape(-1).tolist()

    def token_source(self, voice: SparkVoice, sampling: SamplingSettings) -> SparkLanguageModelTokens:
        return SparkLanguageModelTokens(self, voice, sampling)

    def warm_up(self, voice: SparkVoice, sampling: SamplingSettings) -> None:
        """Run every kernel once (prefill, a few decode steps, a BiCodec decode) so the first reply is not slow."""
        stream = self.token_source(voice, dataclasses.replace(sampling, max_tokens=4)).open("Hi.")
        for _ in stream.raw_tokens():
            pass
        self.decode([0] * self.global_token_count, [0] * 10)


class SparkLanguageModelTokens:
    """Token source backed by Spark's Qwen2 LM, constrained to tokens that make a speakable stream."""

    def __init__(self, model: SparkModel, voice: SparkVoice, sampling: SamplingSettings) -> None:
        self.model = model
        self.voice = voice
        self.sampling = sampling
        self.reference: tuple[list[int], list[int]] | None = (
            model.reference_tokens(voice.ref_audio) if voice.ref_audio else None
        )

    def prompt(self, text: str) -> str:
        if self.reference is None:
            return self.model.spark.process_prompt_control(
                self.voice.gender, self.voice.pitch, self.voice.speed, text
            )
        global_ids, semantic_ids = self.reference
        speaker = "".join(f"<|bicodec_global_{i}|>" for i in global_ids)
        parts = ["<|task_tts|>", "<|start_content|>"]
        parts += [self.voice.ref_text, text] if self.voice.ref_text else [text]
        parts += ["<|end_content|>", "<|start_global_token|>", speaker, "<|end_global_token|>"]
        if self.voice.ref_text:
            parts += ["<|start_semantic_token|>", "".join(f"<|bicodec_semantic_{i}|>" for i in semantic_ids)]
        return "".join(parts)

    def open(self, text: str) -> LanguageModelTokenStream:
        return LanguageModelTokenStream(self, text)


class LanguageModelTokenStream:
    """One utterance generated by the LM: speaker tokens first (unless cloning), then semantic tokens."""

    def __init__(self, source: SparkLanguageModelTokens, text: str) -> None:
        self._source = source
        self._text = text
        model = source.model
        self._global_tokens: list[int] = list(source.reference[0]) if source.reference else []
        self.tokens_generated = 0
        allowed_in_global_phase = list(model.global_index) + model.marker_ids["global"]
        allowed_in_semantic_phase = (
            list(model.semantic_index) + model.marker_ids["semantic"] + sorted(model.stop_ids)
        )
        self._global_phase_mask = self._mask(allowed_in_global_phase)
        self._semantic_phase_mask = self._mask(allowed_in_semantic_phase)

    def _mask(self, allowed: list[int]) -> mx.array:
        mask = np.full((self._source.model.vocab_size,), -math.inf, dtype=np.float32)
        mask[[i for i in allowed if i < len(mask)]] = 0.0
        return mx.array(mask)

    def global_tokens(self) -> list[int]:
        return self._global_tokens

    def _constrain(self, history: mx.array, logits: mx.array) -> mx.array:
        """Speaker tokens until there are enough of them, then only semantic tokens or the end."""
        if len(history) and int(history[-1].item()) in self._source.model.global_index:
            self._pending_globals = max(0, self._pending_globals - 1)
        mask = self._global_phase_mask if self._pending_globals else self._semantic_phase_mask
        return logits + mask.astype(logits.dtype)

    def raw_tokens(self) -> Iterator[int]:
        """Every token id the LM generates for the text, until a stop token or max_tokens."""
        from mlx_audio.lm.generate import generate_step
        from mlx_audio.lm.sample_utils import make_logits_processors, make_sampler

        source = self._source
        sampling = source.sampling
        self._pending_globals = source.model.global_token_count - len(self._global_tokens)
        prompt_ids = source.model.tokenizer.encode(source.prompt(self._text), add_special_tokens=False)
        processors = make_logits_processors(None, sampling.repetition_penalty, 20) + [self._constrain]
        sampler = make_sampler(sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
        for token, _ in generate_step(
            mx.array(prompt_ids),
            source.model.spark.model,
            max_tokens=sampling.max_tokens,
            sampler=sampler,
            logits_processors=processors,
        ):
            if token in source.model.stop_ids:
                return
            self.tokens_generated += 1
            yield token

    def __iter__(self) -> Iterator[int]:
        model = self._source.model
        for token in self.raw_tokens():
            if token in model.global_index:
                if len(self._global_tokens) < model.global_token_count:
                    self._global_tokens.append(model.global_index[token])
            elif token in model.semantic_index:
                if len(self._global_tokens) < model.global_token_count:
                    raise SparkGenerationError("the LM produced semantic tokens before the speaker tokens")
                yield model.semantic_index[token]
