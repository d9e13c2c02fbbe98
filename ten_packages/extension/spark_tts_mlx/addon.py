from ten_runtime import Addon, TenEnv, register_addon_as_extension

from .extension import SparkTTSExtension


@register_addon_as_extension("spark_tts_mlx")
class SparkTTSExtensionAddon(Addon):
    def on_create_instance(self, ten_env: TenEnv, name: str, context) -> None:
        ten_env.on_create_instance_done(SparkTTSExtension(name), context)
