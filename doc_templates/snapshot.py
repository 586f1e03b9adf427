"""Document data ⇄ JSON, so that every issued document can be re-rendered from what it was made of."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date
from typing import Any

from doc_templates.context import DocumentData, data_type, kind_of


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(tp: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        return tp(**{f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(tp)})
    if tp is date:
        return date.fromisoformat(value)
    if typing.get_origin(tp) in (tuple, list, typing.get_origin(typing.Sequence[int])):
        inner = typing.get_args(tp)[0]
        return tuple(_decode(inner, v) for v in value)
    return value


def to_snapshot(data: DocumentData) -> dict[str, Any]:
    """A JSON-ready dict: ``{"kind": "notice", "data": {...}}``."""
    return {"kind": kind_of(data).code, "data": _encode(data)}


def from_snapshot(snapshot: dict[str, Any]) -> DocumentData:
    return typing.cast(DocumentData, _decode(data_type(snapshot["kind"]), snapshot["data"]))
