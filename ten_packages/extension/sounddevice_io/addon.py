"""Registers the sounddevice_io extension with TEN."""

from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import SounddeviceIoExtension


@register_addon_as_extension("sounddevice_io")
class SounddeviceIoAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context: object) -> None:
        ten_env.on_create_instance_done(SounddeviceIoExtension(name), context)
