from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import TurnDetectorExtension


@register_addon_as_extension("turn_detector")
class TurnDetectorAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(TurnDetectorExtension(name), context)
