"""Answers for structured output: a small JSON value that satisfies a JSON schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["example_from_schema"]

_STRING_FORMATS = {
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def example_from_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """A small JSON value that satisfies a JSON schema (objects get all their properties)."""
    root = schema if root is None else root
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        return example_from_schema(target, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, ()) if o.get("type") != "null"]
        if options:
            return example_from_schema(options[0], root)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: example_from_schema(sub, root) for key, sub in properties.items()}
    if kind == "array":
        items = schema.get("items")
        return [example_from_schema(items, root)] if isinstance(items, Mapping) else []
    if kind == "string" and schema.get("format") in _STRING_FORMATS:
        return _STRING_FORMATS[schema["format"]]
    simple: dict[str, Any] = {"string": "example", "integer": 1, "number": 1.0, "boolean": True}
    return simple.get(str(kind))
