"""Drops `<think>…</think>` reasoning from a streamed reply, so it is never spoken."""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


def _partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag` (a tag split across chunks)."""
    for length in range(min(len(text), len(tag) - 1), 0, -1):
        if text.endswith(tag[:length]):
            return length
    return 0


class ReasoningFilter:
    """Streaming filter: feed raw chunks, get back only the text meant to be spoken.

    Tags may be split anywhere across chunks, so a possible tag prefix at the end of a chunk is held back
    until the next chunk decides it. Leading whitespace of the visible reply is dropped (models put
    blank lines after `</think>`).
    """

    def __init__(self) -> None:
        self._inside_think = False
        self._held_back = ""
        self._visible_started = False

    def feed(self, chunk: str) -> str:
        """Return the visible part of `chunk` that can be released now."""
        text = self._held_back + chunk
        self._held_back = ""
        visible: list[str] = []
        while text:
            tag = THINK_CLOSE if self._inside_think else THINK_OPEN
            tag_index = text.find(tag)
            if tag_index >= 0:
                if not self._inside_think:
                    visible.append(text[:tag_index])
                text = text[tag_index + len(tag) :]
                self._inside_think = not self._inside_think
                continue
            held = _partial_tag_length(text, tag)
            if not self._inside_think:
                visible.append(text[: len(text) - held])
            self._held_back = text[len(text) - held :]
            break
        return self._release("".join(visible))

    def flush(self) -> str:
        """Release what was held back at the end of the stream (an unfinished think block is dropped)."""
        rest = "" if self._inside_think else self._held_back
        self._held_back = ""
        return self._release(rest)

    def _release(self, text: str) -> str:
        if not self._visible_started:
            text = text.lstrip()
            self._visible_started = bool(text)
        return text
