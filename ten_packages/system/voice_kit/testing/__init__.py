"""Helpers for tests: real speech made at test time."""
