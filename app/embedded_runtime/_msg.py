"""Messages: Cmd, CmdResult, Data, AudioFrame, VideoFrame, with TEN's property and buffer API."""

from __future__ import annotations

import copy
import itertools
import json
import re
from enum import IntEnum
from typing import Any

from ._errors import StatusCode, TenError, TenErrorCode

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ids = itertools.count(1)
_CREATE_TOKEN = object()


class Loc:
    """Where a message comes from or goes to: app, graph and extension."""

    def __init__(
        self, app_uri: str | None = None, graph_id: str | None = None, extension_name: str | None = None
    ) -> None:
        self.app_uri = app_uri
        self.graph_id = graph_id
        self.extension_name = extension_name

    def __repr__(self) -> str:
        return f"Loc(app_uri={self.app_uri!r}, graph_id={self.graph_id!r}, extension_name={self.extension_name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loc) and (self.app_uri, self.graph_id, self.extension_name) == (
            other.app_uri,
            other.graph_id,
            other.extension_name,
        )


class SendOptions:
    """Accepted for API compatibility; the embedded runtime has no send options."""


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for key, index in _PATH_PART.findall(path):
        parts.append(int(index) if index else key)
    if not parts:
        raise ValueError(f"empty property path {path!r}")
    return parts


def _type_error(path: str, expected: str, value: Any) -> TenError:
    return TenError(
        TenErrorCode.ErrorCodeInvalidType, f"property '{path}' is {type(value).__name__}, expected {expected}"
    )


class PropertyStore:
    """A JSON tree addressed by TEN paths such as ``a.b[0].c``; getters return (value, error)."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = values if values is not None else {}

    def lookup(self, path: str) -> tuple[Any, TenError | None]:
        node: Any = self._values
        for part in _split_path(path):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None, TenError(TenErrorCode.ErrorCodeGeneric, f"property '{path}' does not exist")
        return node, None

    def assign(self, path: str, value: Any) -> TenError | None:
        parts = _split_path(path)
        node: Any = self._values
        for part, nxt in zip(parts, parts[1:], strict=False):
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    return TenError(
                        TenErrorCode.ErrorCodeInvalidArgument, f"bad index in property path '{path}'"
                    )
                node = node[part]
                continue
            if not isinstance(node.get(part), (dict, list)):
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
        last = parts[-1]
        if isinstance(last, int):
            if not isinstance(node, list):
                return TenError(
                    TenErrorCode.ErrorCodeInvalidArgument, f"property path '{path}' indexes a non-array"
                )
            while len(node) <= last:
                node.append(None)
        node[last] = value
        return None

    def get_typed(
        self, path: str, kind: type | tuple[type, ...], expected: str
    ) -> tuple[Any, TenError | None]:
        value, err = self.lookup(path)
        if err:
            return None, err
        if isinstance(value, bool) and kind is not bool:
            return None, _type_error(path, expected, value)
        if not isinstance(value, kind):
            return None, _type_error(path, expected, value)
        return value, None

    def to_json(self, path: str | None = None) -> tuple[str, TenError | None]:
        if not path:
            return json.dumps(self._values), None
        value, err = self.lookup(path)
        if err:
            return "", err
        return json.dumps(value), None

    def from_json(self, path: str | None, json_str: str) -> TenError | None:
        try:
            value = json.loads(json_str)
        except json.JSONDecodeError as exc:
            return TenError(
                TenErrorCode.ErrorCodeInvalidJSON, f"invalid JSON for property '{path or ''}': {exc}"
            )
        if not path:
            if not isinstance(value, dict):
                return TenError(
                    TenErrorCode.ErrorCodeInvalidArgument, "the root property must be a JSON object"
                )
            self._values.update(value)
            return None
        return self.assign(path, value)

    def snapshot(self) -> dict[str, Any]:
        return self._values


class _PropertyAccess:
    """TEN's typed property getters/setters, shared by messages and TEN envs."""

    _props: PropertyStore

    def get_property_to_json(self, path: str | None = None) -> tuple[str, TenError | None]:
        return self._props.to_json(path)

    def set_property_from_json(self, path: str | None, json_str: str) -> TenError | None:
        return self._props.from_json(path, json_str)

    def get_property_int(self, path: str) -> tuple[int, TenError | None]:
        value, err = self._props.get_typed(path, int, "int")
        return (0, err) if err else (value, None)

    def get_property_float(self, path: str) -> tuple[float, TenError | None]:
        value, err = self._props.get_typed(path, (int, float), "float")
        return (0.0, err) if err else (float(value), None)

    def get_property_string(self, path: str) -> tuple[str, TenError | None]:
        value, err = self._props.get_typed(path, str, "string")
        return ("", err) if err else (value, None)

    def get_property_bool(self, path: str) -> tuple[bool, TenError | None]:
        value, err = self._props.get_typed(path, bool, "bool")
        return (False, err) if err else (value, None)

    def get_property_buf(self, path: str) -> tuple[bytearray, TenError | None]:
        value, err = self._props.get_typed(path, (bytes, bytearray), "buf")
        return (bytearray(), err) if err else (bytearray(value), None)

    def set_property_int(self, path: str, value: int) -> TenError | None:
        return self._props.assign(path, int(value))

    def set_property_float(self, path: str, value: float) -> TenError | None:
        return self._props.assign(path, float(value))

    def set_property_string(self, path: str, value: str) -> TenError | None:
        return self._props.assign(path, str(value))

    def set_property_bool(self, path: str, value: bool) -> TenError | None:
        return self._props.assign(path, bool(value))

    def set_property_buf(self, path: str, value: bytes | bytearray) -> TenError | None:
        return self._props.assign(path, bytes(value))


class Msg(_PropertyAccess):
    """Base of every message. Built with ``X.create(name)``, never the constructor."""

    def __init__(self, name: str, token: object = None) -> None:
        if token is not _CREATE_TOKEN:
            raise TypeError(f"use {type(self).__name__}.create(...) instead of the constructor")
        self._name = name
        self._props = PropertyStore()
        self._source: Loc = Loc()
        self._dests: list[Loc] | None = None

    def get_name(self) -> str:
        return self._name

    def set_name(self, name: str) -> TenError | None:
        self._name = name
        return None

    def get_source(self) -> Loc:
        return self._source

    def set_dests(self, dests: list[Loc]) -> TenError | None:
        self._dests = list(dests)
        return None

    def clone(self) -> Msg:
        twin = copy.copy(self)
        twin._props = PropertyStore(copy.deepcopy(self._props.snapshot()))
        twin._dests = list(self._dests) if self._dests is not None else None
        return twin

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r})"


class _Buffered:
    """The buffer API of Data and frames: lock_buf gives a zero-copy view, get_buf a copy."""

    _buf: bytearray

    def alloc_buf(self, size: int) -> None:
        self._buf = bytearray(size)

    def lock_buf(self) -> memoryview:
        return memoryview(self._buf)

    def unlock_buf(self, buf: memoryview) -> None:
        buf.release()

    def get_buf(self) -> bytearray:
        return bytearray(self._buf)

    def _clone_buf(self, twin: _Buffered) -> None:
        twin._buf = bytearray(self._buf)


class Cmd(Msg):
    def __init__(self, name: str, token: object = None) -> None:
        super().__init__(name, token)
        self._cmd_id = next(_ids)

    @classmethod
    def create(cls, name: str) -> Cmd:
        return cls(name, _CREATE_TOKEN)

    def clone(self) -> Cmd:
        twin = super().clone()
        twin._cmd_id = next(_ids)
        return twin


class StartGraphCmd(Cmd):
    @classmethod
    def create(cls) -> StartGraphCmd:  # type: ignore[override]
        return cls("ten:start_graph", _CREATE_TOKEN)

    def set_predefined_graph_name(self, name: str) -> TenError | None:
        return self._props.assign("predefined_graph", name)

    def set_graph_from_json(self, json_str: str) -> TenError | None:
        return self._props.from_json("graph", json_str)


class StopGraphCmd(Cmd):
    @classmethod
    def create(cls) -> StopGraphCmd:  # type: ignore[override]
        return cls("ten:stop_graph", _CREATE_TOKEN)

    def set_graph_id(self, graph_id: str) -> TenError | None:
        return self._props.assign("graph_id", graph_id)


class CmdResult(Msg):
    def __init__(self, name: str, token: object = None) -> None:
        super().__init__(name, token)
        self._status = StatusCode.OK
        self._final = True
        self._completed = False
        self._target_id = 0

    @classmethod
    def create(cls, status_code: StatusCode, target_cmd: Cmd) -> CmdResult:
        result = cls(target_cmd.get_name(), _CREATE_TOKEN)
        result._status = StatusCode(status_code)
        result._target_id = target_cmd._cmd_id
        return result

    def get_status_code(self) -> StatusCode:
        return self._status

    def set_final(self, is_final: bool) -> TenError | None:
        self._final = bool(is_final)
        return None

    def is_final(self) -> bool:
        return self._final

    def is_completed(self) -> bool:
        return self._completed


class Data(Msg, _Buffered):
    def __init__(self, name: str, token: object = None) -> None:
        super().__init__(name, token)
        self._buf = bytearray()

    @classmethod
    def create(cls, name: str) -> Data:
        return cls(name, _CREATE_TOKEN)

    def clone(self) -> Data:
        twin = super().clone()
        self._clone_buf(twin)
        return twin


class AudioFrameDataFmt(IntEnum):
    INTERLEAVE = 1
    NON_INTERLEAVE = 2


class AudioFrame(Msg, _Buffered):
    def __init__(self, name: str, token: object = None) -> None:
        super().__init__(name, token)
        self._buf = bytearray()
        self._sample_rate = 0
        self._samples_per_channel = 0
        self._bytes_per_sample = 2
        self._channels = 1
        self._data_fmt = AudioFrameDataFmt.INTERLEAVE
        self._timestamp = 0
        self._line_size = 0
        self._eof = False

    @classmethod
    def create(cls, name: str) -> AudioFrame:
        return cls(name, _CREATE_TOKEN)

    def clone(self) -> AudioFrame:
        twin = super().clone()
        self._clone_buf(twin)
        return twin

    def get_sample_rate(self) -> int:
        return self._sample_rate

    def set_sample_rate(self, sample_rate: int) -> None:
        self._sample_rate = int(sample_rate)

    def get_samples_per_channel(self) -> int:
        return self._samples_per_channel

    def set_samples_per_channel(self, samples: int) -> None:
        self._samples_per_channel = int(samples)

    def get_bytes_per_sample(self) -> int:
        return self._bytes_per_sample

    def set_bytes_per_sample(self, size: int) -> None:
        self._bytes_per_sample = int(size)

    def get_number_of_channels(self) -> int:
        return self._channels

    def set_number_of_channels(self, channels: int) -> None:
        self._channels = int(channels)

    def get_data_fmt(self) -> AudioFrameDataFmt:
        return self._data_fmt

    def set_data_fmt(self, fmt: AudioFrameDataFmt) -> None:
        self._data_fmt = AudioFrameDataFmt(fmt)

    def get_timestamp(self) -> int:
        return self._timestamp

    def set_timestamp(self, timestamp: int) -> None:
        self._timestamp = int(timestamp)

    def get_line_size(self) -> int:
        return self._line_size

    def set_line_size(self, line_size: int) -> None:
        self._line_size = int(line_size)

    def is_eof(self) -> bool:
        return self._eof

    def set_eof(self, eof: bool = True) -> None:
        self._eof = bool(eof)


class PixelFmt(IntEnum):
    RGB24 = 1
    RGBA = 2
    BGR24 = 3
    BGRA = 4
    I422 = 5
    I420 = 6
    NV21 = 7
    NV12 = 8


class VideoFrame(Msg, _Buffered):
    def __init__(self, name: str, token: object = None) -> None:
        super().__init__(name, token)
        self._buf = bytearray()
        self._width = 0
        self._height = 0
        self._pixel_fmt = PixelFmt.RGBA
        self._timestamp = 0
        self._eof = False

    @classmethod
    def create(cls, name: str) -> VideoFrame:
        return cls(name, _CREATE_TOKEN)

    def clone(self) -> VideoFrame:
        twin = super().clone()
        self._clone_buf(twin)
        return twin

    def get_width(self) -> int:
        return self._width

    def set_width(self, width: int) -> None:
        self._width = int(width)

    def get_height(self) -> int:
        return self._height

    def set_height(self, height: int) -> None:
        self._height = int(height)

    def get_pixel_fmt(self) -> PixelFmt:
        return self._pixel_fmt

    def set_pixel_fmt(self, fmt: PixelFmt) -> None:
        self._pixel_fmt = PixelFmt(fmt)

    def get_timestamp(self) -> int:
        return self._timestamp

    def set_timestamp(self, timestamp: int) -> None:
        self._timestamp = int(timestamp)

    def is_eof(self) -> bool:
        return self._eof

    def set_eof(self, eof: bool = True) -> None:
        self._eof = bool(eof)
