"""Forwards every message unchanged and answers cmds: a graph's plumbing test and the runtime benchmark's link."""

from ten_runtime import AsyncExtension, AsyncTenEnv, AudioFrame, Cmd, CmdResult, Data, StatusCode


class PcmPassthroughExtension(AsyncExtension):
    async def on_audio_frame(self, ten_env: AsyncTenEnv, audio_frame: AudioFrame) -> None:
        await ten_env.send_audio_frame(audio_frame)

    async def on_data(self, ten_env: AsyncTenEnv, data: Data) -> None:
        await ten_env.send_data(data)

    async def on_cmd(self, ten_env: AsyncTenEnv, cmd: Cmd) -> None:
        result = CmdResult.create(StatusCode.OK, cmd)
        result.set_property_string("detail", "pong")
        await ten_env.return_result(result)
