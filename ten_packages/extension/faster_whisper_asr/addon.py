from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import FasterWhisperAsrExtension


@register_addon_as_extension("faster_whisper_asr")
class FasterWhisperAsrAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(FasterWhisperAsrExtension(name), context)
