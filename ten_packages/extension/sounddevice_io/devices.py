"""Choosing the microphone and speaker by name or index, with an error that lists what is there."""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal

DeviceKind = Literal["input", "output"]


class AudioDeviceError(RuntimeError):
    """The requested audio device does not exist or cannot do the requested direction."""


def portaudio() -> ModuleType:
    """The `sounddevice` module, imported on first use so that a missing PortAudio library is a clear
    error of this extension rather than an import failure of the whole app."""
    try:
        import sounddevice
    except OSError as error:
        raise AudioDeviceError(
            f"the PortAudio library is missing ({error}); install it with 'sudo apt-get install "
            "libportaudio2' (or run scripts/setup)"
        ) from error
    return sounddevice


def list_devices() -> list[dict[str, Any]]:
    """Every audio device PortAudio sees (an empty list on a machine without any)."""
    return [dict(device) for device in portaudio().query_devices()]


def default_device_index(kind: DeviceKind) -> int:
    """The system default device for this direction, or -1 when there is none."""
    return int(portaudio().default.device[0 if kind == "input" else 1])


def describe_devices(devices: list[dict[str, Any]], kind: DeviceKind) -> str:
    """One line per device usable for `kind`: index, name, channels, default rate."""
    channels_key = f"max_{kind}_channels"
    lines = [
        f"  {d['index']}: {d['name']} ({d[channels_key]} ch, {int(d['default_samplerate'])} Hz)"
        for d in devices
        if d[channels_key] > 0
    ]
    return "\n".join(lines) if lines else "  (none: no audio device found)"


def resolve_device(
    spec: str, kind: DeviceKind, devices: list[dict[str, Any]], default_index: int
) -> dict[str, Any]:
    """The device for `spec`: "" for the system default, an index, or a (case-insensitive) part of a name.

    An exact name wins over a partial one; a name matching several devices is an error.
    """
    channels_key = f"max_{kind}_channels"
    usable = [d for d in devices if d[channels_key] > 0]
    spec = spec.strip()
    if not spec:
        matches = [d for d in usable if d["index"] == default_index] or usable[:1]
    elif spec.isdigit():
        matches = [d for d in usable if d["index"] == int(spec)]
    else:
        wanted = spec.casefold()
        matches = [d for d in usable if d["name"].casefold() == wanted] or [
            d for d in usable if wanted in d["name"].casefold()
        ]
    if len(matches) == 1:
        return matches[0]
    problem = "matches several" if matches else "was not found among the"
    raise AudioDeviceError(
        f"{kind} device '{spec or 'default'}' {problem} {kind} devices. "
        f"Set the '{kind}_device' property to one of these names or indexes:\n"
        f"{describe_devices(matches or devices, kind)}"
    )
