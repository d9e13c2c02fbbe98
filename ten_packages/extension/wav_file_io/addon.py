"""Registers the wav_file_io extension with TEN."""

from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import WavFileIoExtension


@register_addon_as_extension("wav_file_io")
class WavFileIoAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context: object) -> None:
        ten_env.on_create_instance_done(WavFileIoExtension(name), context)
