from ten_runtime import Addon, register_addon_as_extension

from .extension import ToneGeneratorExtension


@register_addon_as_extension("tone_generator")
class ToneGeneratorAddon(Addon):
    def on_create_instance(self, ten_env, name: str, context) -> None:
        ten_env.on_create_instance_done(ToneGeneratorExtension(name), context)
