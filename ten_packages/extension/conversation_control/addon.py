from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import ConversationControlExtension


@register_addon_as_extension("conversation_control")
class ConversationControlAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(ConversationControlExtension(name), context)
