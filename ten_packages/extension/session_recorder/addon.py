from ten_runtime import Addon, register_addon_as_extension

from .extension import SessionRecorderExtension


@register_addon_as_extension("session_recorder")
class SessionRecorderAddon(Addon):
    def on_create_instance(self, ten_env, name: str, context) -> None:
        ten_env.on_create_instance_done(SessionRecorderExtension(name), context)
