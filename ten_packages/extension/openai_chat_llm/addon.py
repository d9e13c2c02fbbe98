from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import OpenAiChatLlmExtension


@register_addon_as_extension("openai_chat_llm")
class OpenAiChatLlmAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(OpenAiChatLlmExtension(name), context)
