"""Reading the input file as graph frames and writing what was played on the input's timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile
import soxr

from ten_packages.system.voice_kit.capture import CaptureConverter
from ten_packages.system.voice_kit.pcm import GRAPH_SAMPLE_RATE


class AudioFileError(ValueError):
    """An audio file that cannot be opened for reading or writing."""


class WavSource:
    """An audio file of any rate, channel count and sample format, read as 10 ms 16 kHz mono s16 frames."""

    def __init__(self, path: str, block_ms: int = 100) -> None:
        if not path:
            raise AudioFileError("no input file: set the 'input_path' property to a WAV file")
        if not Path(path).is_file():
            raise AudioFileError(f"input file '{path}' does not exist")
        try:
            self._file = soundfile.SoundFile(path)
        except (soundfile.SoundFileError, OSError) as error:
            raise AudioFileError(f"input file '{path}' is not readable audio: {error}") from error
        self.path = path
        self._block_frames = max(1, self._file.samplerate * block_ms // 1000)
        self._converter = CaptureConverter(self._file.samplerate)

    @property
    def source_rate(self) -> int:
        return self._file.samplerate

    def describe(self) -> str:
        file = self._file
        return f"{self.path}: {file.samplerate} Hz, {file.channels} ch, {file.subtype}, {file.frames} frames"

    @property
    def duration_ms(self) -> int:
        """Length of the converted audio read so far (all of it once `frames()` is exhausted)."""
        return self._converter.converted_samples * 1000 // GRAPH_SAMPLE_RATE

    def frames(self) -> Iterator[np.ndarray]:
        """The whole file as int16 frames of 10 ms; the last one is padded with silence."""
        for block in self._file.blocks(blocksize=self._block_frames, dtype="float32", always_2d=True):
            yield from self._converter.push(block)
        yield from self._converter.finish()

    def close(self) -> None:
        self._file.close()


class WavSink:
    """Writes played 16 kHz slices as mono s16 WAV at `output_rate`, sample-aligned with the input file."""

    def __init__(self, path: str, output_rate: int) -> None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = soundfile.SoundFile(
                path, "w", samplerate=output_rate, channels=1, format="WAV", subtype="PCM_16"
            )
        except (soundfile.SoundFileError, OSError) as error:
            raise AudioFileError(f"cannot write output file '{path}': {error}") from error
        self._resampler = (
            soxr.ResampleStream(GRAPH_SAMPLE_RATE, output_rate, 1, dtype="int16")
            if output_rate != GRAPH_SAMPLE_RATE
            else None
        )

    def write(self, samples: np.ndarray) -> None:
        """Append one played slice (int16, 16 kHz)."""
        self._file.write(self._resampler.resample_chunk(samples) if self._resampler else samples)

    def close(self) -> None:
        """Drain the resampler and finish the WAV header."""
        if self._file.closed:
            return
        if self._resampler:
            self._file.write(self._resampler.resample_chunk(np.zeros(0, np.int16), last=True))
        self._file.close()
