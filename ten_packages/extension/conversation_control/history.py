"""The conversation as the LLM sees it, bounded in turns and characters."""

from __future__ import annotations

from dataclasses import dataclass

from ten_packages.system.voice_kit.text import CJK_CHAR


def join_speech(first: str, second: str) -> str:
    """Join two pieces of text with a space, except between two CJK characters."""
    first, second = first.strip(), second.strip()
    if not first or not second:
        return first or second
    if CJK_CHAR.match(first[-1]) or CJK_CHAR.match(second[0]):
        return first + second
    return f"{first} {second}"


@dataclass
class HistoryEntry:
    """One message; the content of a bot message is rewritten when a barge-in shows what was heard."""

    role: str
    content: str


class ChatHistory:
    """Messages of past turns; `messages()` returns the newest that fit `max_turns` and `max_chars`.

    A turn is a user message and the reply to it. Consecutive messages of one role (a user who went on
    speaking before the bot said anything) are merged, so chat templates that insist on alternating
    roles accept the list. The newest user message is always kept, even if it alone exceeds max_chars.
    """

    def __init__(self, max_turns: int, max_chars: int) -> None:
        if max_turns < 1 or max_chars < 1:
            raise ValueError("max_turns and max_chars must be at least 1")
        self.max_turns = max_turns
        self.max_chars = max_chars
        self._entries: list[HistoryEntry] = []

    def add(self, role: str, content: str) -> HistoryEntry:
        entry = HistoryEntry(role, content)
        self._entries.append(entry)
        # Keep storage bounded too: far more than any bound could use.
        del self._entries[: max(0, len(self._entries) - 4 * self.max_turns - 4)]
        return entry

    def messages(self, system_prompt: str, pending_user_text: str | None = None) -> list[dict[str, str]]:
        """The chat to send: system prompt, then the bounded recent history (plus a not yet added user text)."""
        merged: list[HistoryEntry] = []
        entries = list(self._entries)
        if pending_user_text:
            entries.append(HistoryEntry("user", pending_user_text))
        for entry in entries:
            if not entry.content.strip():
                continue
            if merged and merged[-1].role == entry.role:
                merged[-1] = HistoryEntry(entry.role, join_speech(merged[-1].content, entry.content))
            else:
                merged.append(HistoryEntry(entry.role, entry.content.strip()))
        kept: list[HistoryEntry] = []
        chars = user_messages = 0
        for entry in reversed(merged):
            if kept and (chars + len(entry.content) > self.max_chars or user_messages == self.max_turns):
                break
            kept.append(entry)
            chars += len(entry.content)
            user_messages += entry.role == "user"
        kept.reverse()
        while kept and kept[0].role != "user" and len(kept) > 1:
            kept.pop(0)
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        return messages + [{"role": e.role, "content": e.content} for e in kept]
