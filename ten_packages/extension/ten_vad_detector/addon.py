from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import TenVadDetectorExtension


@register_addon_as_extension("ten_vad_detector")
class TenVadDetectorAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(TenVadDetectorExtension(name), context)
