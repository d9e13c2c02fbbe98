"""Registers the Piper TTS extension with the TEN runtime."""

from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import PiperTTSExtension


@register_addon_as_extension("piper_tts")
class PiperTTSExtensionAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context: object) -> None:
        ten_env.on_create_instance_done(PiperTTSExtension(name), context)
