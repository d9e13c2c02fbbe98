"""Shared code for this project's voice extensions (the role TEN's ten_ai_base plays).

Import as ``from ten_packages.system.voice_kit import pcm``; copy this folder next to the
extensions when embedding them in another TEN app.
"""
