"""A tiny random Spark-TTS model folder, in the real layout, for tests and benchmarks.

Spark weights only come from the Hugging Face hub, which tests cannot reach. This writes a folder with the
same files the released model has (LM config + weights + tokenizer, BiCodec, wav2vec2, audio tokenizer
config), built from mlx-audio's own modules with random weights, so that mlx-audio's real loading code and
every real decoding path run. A random LM produces no meaningful speech: feed `scripted_semantic_tokens`.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import numpy as np
import yaml
from mlx.utils import tree_flatten

SEMANTIC_CODES = 256
GLOBAL_LEVELS = [4, 4]  # FSQ levels: 16 speaker codes
GLOBAL_TOKEN_COUNT = 8
WAV2VEC2_HIDDEN = 64
TOKENS_PER_SECOND = 50  # BiCodec: 320 samples per token at 16 kHz

_SPECIAL_TOKENS = [
    "<|im_end|>",
    "<|task_tts|>",
    "<|task_controllable_tts|>",
    "<|start_content|>",
    "<|end_content|>",
    "<|start_style_label|>",
    "<|end_style_label|>",
    "<|start_global_token|>",
    "<|end_global_token|>",
    "<|start_semantic_token|>",
    "<|end_semantic_token|>",
    *[f"<|gender_{i}|>" for i in range(2)],
    *[f"<|pitch_label_{i}|>" for i in range(5)],
    *[f"<|speed_label_{i}|>" for i in range(5)],
    *[f"<|bicodec_global_{i}|>" for i in range(int(np.prod(GLOBAL_LEVELS)))],
    *[f"<|bicodec_semantic_{i}|>" for i in range(SEMANTIC_CODES)],
]
_WORDS = "<unk> hello world the a is this test of speech one two three . , ! ?".split()


def _bicodec_config() -> dict:
    vocos = {"vocos_dim": 256, "vocos_intermediate_dim": 256, "vocos_num_layers": 1}
    return {
        "mel_params": {
            "sample_rate": 16000,
            "n_fft": 1024,
            "win_length": 640,
            "hop_length": 320,
            "mel_fmin": 10,
            "mel_fmax": None,
            "num_mels": 128,
        },
        "encoder": {"input_channels": WAV2VEC2_HIDDEN, **vocos, "out_channels": 256, "sample_ratios": [1]},
        "decoder": {
            "input_channel": 256,
            "channels": 128,
            "rates": [8, 5, 4, 2],
            "kernel_sizes": [16, 11, 8, 4],
        },
        "quantizer": {
            "input_dim": 256,
            "codebook_size": SEMANTIC_CODES,
            "codebook_dim": 8,
            "commitment": 0.25,
            "codebook_loss_weight": 2.0,
            "use_l2_normlize": True,
            "threshold_ema_dead_code": 0.2,
        },
        "speaker_encoder": {
            "input_dim": 128,
            "out_dim": 256,
            "latent_dim": 128,
            "token_num": GLOBAL_TOKEN_COUNT,
            "fsq_levels": GLOBAL_LEVELS,
            "fsq_num_quantizers": 1,
        },
        "prenet": {
            "input_channels": 256,
            **vocos,
            "out_channels": 256,
            "condition_dim": 256,
            "sample_ratios": [1],
            "use_tanh_at_final": False,
        },
        "postnet": {
            "input_channels": 256,
            **vocos,
            "out_channels": WAV2VEC2_HIDDEN,
            "use_tanh_at_final": False,
        },
    }


def _save(weights: dict[str, mx.array], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(path), weights)


def _write_bicodec(folder: Path) -> None:
    from mlx_audio.tts.models.spark.bicodec import BiCodec
    from mlx_audio.tts.models.spark.modules.encoder_decoder.feat_decoder import Decoder
    from mlx_audio.tts.models.spark.modules.encoder_decoder.feat_encoder import Encoder
    from mlx_audio.tts.models.spark.modules.encoder_decoder.wave_generator import WaveGenerator
    from mlx_audio.tts.models.spark.modules.residual import FactorizedVectorQuantize
    from mlx_audio.tts.models.spark.modules.speaker.speaker_encoder import SpeakerEncoder

    config = _bicodec_config()
    bicodec = BiCodec(
        mel_params=config["mel_params"],
        encoder=Encoder(**config["encoder"]),
        decoder=WaveGenerator(**config["decoder"]),
        quantizer=FactorizedVectorQuantize(**config["quantizer"]),
        speaker_encoder=SpeakerEncoder(**config["speaker_encoder"]),
        prenet=Decoder(**config["prenet"]),
        postnet=Decoder(**config["postnet"]),
    )
    _save(dict(tree_flatten(bicodec.parameters())), folder / "BiCodec" / "model.safetensors")
    (folder / "BiCodec" / "config.yaml").write_text(yaml.safe_dump({"audio_tokenizer": config}))
    (folder / "audio_tokenizer_config.yaml").write_text(
        yaml.safe_dump(
            {
                "sample_rate": 16000,
                "segment_duration": 2.4,
                "max_val_duration": 12,
                "latent_hop_length": 320,
                "ref_segment_duration": 6,
                "volume_normalize": True,
            }
        )
    )


def _write_wav2vec2(folder: Path) -> None:
    from mlx_audio.stt.models.wav2vec.wav2vec import ModelConfig, Wav2Vec2Model

    config = {
        "model_type": "wav2vec2",
        "hidden_size": WAV2VEC2_HIDDEN,
        "num_hidden_layers": 16,  # Spark mixes hidden states 11, 14 and 16
        "num_attention_heads": 2,
        "intermediate_size": 128,
        "conv_dim": [256] * 7,
        "conv_stride": [5, 2, 2, 2, 2, 2, 2],
        "conv_kernel": [10, 3, 3, 3, 3, 2, 2],
        "conv_bias": True,
        "feat_extract_norm": "layer",
        "do_stable_layer_norm": True,
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 4,
    }
    model = Wav2Vec2Model(ModelConfig.from_dict(config))
    weights = {}
    for key, value in tree_flatten(model.parameters()):
        # Checkpoints store conv weights in PyTorch's (out, in, kernel) layout; the loader swaps them back.
        if key.endswith((".conv.weight", ".conv.weight_v", ".conv.weight_g")):
            value = value.swapaxes(1, 2)
        weights[key] = value
    target = folder / "wav2vec2-large-xlsr-53"
    _save(weights, target / "model.safetensors")
    (target / "config.json").write_text(json.dumps(config))
    (target / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "feature_extractor_type": "Wav2Vec2FeatureExtractor",
                "do_normalize": True,
                "feature_size": 1,
                "padding_side": "right",
                "padding_value": 0.0,
                "return_attention_mask": True,
                "sampling_rate": 16000,
            }
        )
    )


def _write_language_model(folder: Path) -> None:
    from mlx_audio.tts.models.spark.spark import Model, ModelConfig
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    word_level = Tokenizer(models.WordLevel({word: i for i, word in enumerate(_WORDS)}, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, unk_token="<unk>", eos_token="<|im_end|>"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": _SPECIAL_TOKENS[1:]})
    tokenizer.save_pretrained(str(folder))
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = {
        "model_type": "spark",
        "sample_rate": 16000,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_hidden_layers": 2,
        "vocab_size": len(tokenizer),
        "bos_token_id": eos_id,
        "eos_token_id": eos_id,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
        "rms_norm_eps": 1e-6,
    }
    (folder / "config.json").write_text(json.dumps(config))
    spark = Model(ModelConfig.from_dict(config))
    _save(dict(tree_flatten(spark.model.parameters())), folder / "model.safetensors")


def build_tiny_spark_model(folder: Path, seed: int = 0) -> Path:
    """Write the tiny random Spark-TTS model into `folder` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    mx.random.seed(seed)
    _write_bicodec(folder)
    _write_wav2vec2(folder)
    _write_language_model(folder)
    return folder


def scripted_semantic_tokens(count: int, seed: int = 0) -> list[int]:
    """A fixed random sequence of codebook indices: BiCodec decodes any sequence, as it would an LM's."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, SEMANTIC_CODES, size=count).tolist()


def scripted_global_tokens(seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, int(np.prod(GLOBAL_LEVELS)), size=GLOBAL_TOKEN_COUNT).tolist()
