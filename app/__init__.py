"""The voice-chat TEN app: CLI, embedded runtime, graph loading and validation.

Importing the app makes ``import ten_runtime`` work (the real one if installed, else the embedded one).
"""

from app.ten_select import ensure_ten_runtime

ensure_ten_runtime()
