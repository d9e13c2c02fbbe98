"""The voice-chat TEN app: CLI, embedded runtime, graph loading and validation."""
