from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import WebrtcAecExtension


@register_addon_as_extension("webrtc_aec")
class WebrtcAecAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(WebrtcAecExtension(name), context)
