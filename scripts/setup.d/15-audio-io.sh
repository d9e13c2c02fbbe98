#!/usr/bin/env bash
# Audio I/O (sounddevice_io): sounddevice needs the PortAudio library. The macOS and Windows wheels bundle
# it; on Debian/Ubuntu it is the libportaudio2 package. Idempotent: installs only when the import fails.
set -euo pipefail

check_portaudio() { .venv/bin/python -c "import sounddevice" 2>/dev/null; }

if ! check_portaudio; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y libportaudio2 || { apt-get update && apt-get install -y libportaudio2; }
  else
    echo "audio I/O: PortAudio is missing; install it with: sudo apt-get install libportaudio2" >&2
    exit 1
  fi
fi
.venv/bin/python -c "
import sounddevice as sd
print(f'audio I/O: {sd.get_portaudio_version()[1]}; {len(sd.query_devices())} audio device(s) found')
"
