"""Status codes, error codes and log levels, numbered as in TEN 0.11."""

from __future__ import annotations

from enum import IntEnum


class StatusCode(IntEnum):
    OK = 0
    ERROR = 1


class TenErrorCode(IntEnum):
    ErrorCodeOk = 0
    ErrorCodeGeneric = 1
    ErrorCodeInvalidJSON = 2
    ErrorCodeInvalidArgument = 3
    ErrorCodeInvalidType = 4
    ErrorCodeInvalidGraph = 5
    ErrorCodeTenIsClosed = 6
    ErrorCodeMsgNotConnected = 7
    ErrorCodeTimeout = 8


class LogLevel(IntEnum):
    VERBOSE = 1
    DEBUG = 2
    INFO = 3
    WARN = 4
    ERROR = 5
    FATAL = 6


class TenError:
    """An error value, returned (not raised) by the TEN API."""

    def __init__(self, error_code: TenErrorCode, error_message: str | None = None) -> None:
        self._code = TenErrorCode(error_code)
        self._message = error_message or ""

    @classmethod
    def create(cls, error_code: TenErrorCode, error_message: str | None = None) -> TenError:
        return cls(error_code, error_message)

    def error_code(self) -> TenErrorCode:
        return self._code

    def error_message(self) -> str:
        return self._message

    def __repr__(self) -> str:
        return f"TenError({self._code.name}, {self._message!r})"
