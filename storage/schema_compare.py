"""How autogenerate and the drift check compare models to a database (shared by both)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import String
from sqlmodel.sql.sqltypes import AutoString


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Keep migrations free of sqlmodel imports: AutoString is a plain VARCHAR.
    if type_ == "type" and isinstance(obj, AutoString):
        length = f"length={obj.length}" if obj.length else ""
        return f"sa.String({length})"
    return False


def compare_type(
    ctx: Any, inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, AutoString) and isinstance(inspected_type, String):
        return bool(metadata_type.length != inspected_type.length)
    return None


# The job queue (Huey's SQL storage) keeps its own tables in the same PostgreSQL database; they are
# Huey's to create, never ours to migrate or drop.
QUEUE_TABLES = frozenset({"kv", "schedule", "task", "counter"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", None)
    return not (reflected and compare_to is None and table_name in QUEUE_TABLES)
