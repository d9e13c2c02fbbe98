"""Comparing transcripts by their words, ignoring case and punctuation."""

from __future__ import annotations

import re


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())
