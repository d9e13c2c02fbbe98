from ten_runtime import Addon, register_addon_as_extension

from .extension import PcmPassthroughExtension


@register_addon_as_extension("pcm_passthrough")
class PcmPassthroughAddon(Addon):
    def on_create_instance(self, ten_env, name: str, context) -> None:
        ten_env.on_create_instance_done(PcmPassthroughExtension(name), context)
