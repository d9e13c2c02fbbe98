"""Piper TTS extension: importing the package registers its addon with the TEN runtime."""

from . import addon  # noqa: F401
