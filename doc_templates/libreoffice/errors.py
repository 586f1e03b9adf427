"""Errors of the conversion pool: one the caller sees, two the pool handles itself."""

from __future__ import annotations

__all__ = ["ConversionError", "InstanceCrashed", "InstanceTimeout"]


class ConversionError(Exception):
    """A document could not be converted; retrying it would give the same answer.

    The message is for people (Chinese) and names the document, never its contents.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"文档「{name}」转换为 PDF 失败：{reason}")
        self.name = name
        self.reason = reason


class InstanceCrashed(Exception):
    """The LibreOffice process died or its bridge broke: restart it and retry the document once."""


class InstanceTimeout(InstanceCrashed):
    """The instance did not answer in time and was killed: same handling as a crash."""
