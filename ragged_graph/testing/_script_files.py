"""Reading model scripts for the Ollama test server from YAML or JSON files."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ragged_graph.testing._defaults import DEFAULT_MODELS, default_model
from ragged_graph.testing._scripts import Fault, ScriptedModel, ToolCall

__all__ = ["load_script", "model_from_mapping"]

_FIELDS = {f.name for f in dataclasses.fields(ScriptedModel)}
_TUPLE_FIELDS = {"capabilities", "families"}


def model_from_mapping(data: Mapping[str, Any], *, source: str = "script") -> ScriptedModel:
    """Build a `ScriptedModel` from plain data (as read from YAML/JSON).

    A model named like a default model starts from that model's fields. `fault` is a
    `Fault` value such as `"server_error"`; `tool_calls` a list of `{name, arguments}`.
    Errors name `source`, the key and what was expected.
    """
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{source}: key 'name' is required and must be a model tag")
    where = f"{source}: model {name!r}"
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(_FIELDS))}"
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TUPLE_FIELDS and value is not None:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{where}: key {key!r} must be a list of strings")
            value = tuple(value)
        elif key == "fault" and value is not None:
            try:
                value = Fault(str(value))
            except ValueError:
                choices = ", ".join(f.value for f in Fault)
                raise ValueError(f"{where}: key 'fault' must be one of {choices}") from None
        elif key == "tool_calls":
            value = _tool_calls(value, where)
        elif key == "answer" and value is not None and not isinstance(value, str):
            raise ValueError(f"{where}: key 'answer' must be a string")
        values[key] = value
    base = default_model(name)
    try:
        return dataclasses.replace(base, **values) if base else ScriptedModel(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def load_script(path: str | Path) -> list[ScriptedModel]:
    """Read models from a YAML or JSON file.

    The file holds a list of models, or a mapping with `models:` (that list) and optionally
    `include_defaults: true` (keep the default models not overridden by the file).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data: Any = json.loads(text)
    else:
        import yaml  # only needed here; keeps the pytest plugin import light

        data = yaml.safe_load(text)
    include_defaults = False
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"models", "include_defaults"})
        if unknown:
            raise ValueError(
                f"{path}: unknown key {unknown[0]!r}; expected 'models' and 'include_defaults'"
            )
        include_defaults = bool(data.get("include_defaults", False))
        data = data.get("models", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: key 'models' must be a list of model mappings")
    models = []
    for index, entry in enumerate(data):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{path}: models[{index}] must be a mapping with at least 'name'")
        models.append(model_from_mapping(entry, source=f"{path}: models[{index}]"))
    if include_defaults:
        named = {m.tag for m in models}
        models = [m for m in DEFAULT_MODELS if m.tag not in named] + models
    return models


def _tool_calls(value: Any, where: str) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: key 'tool_calls' must be a list of {{name, arguments}}")
    calls = []
    for entry in value:
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("arguments", {}), Mapping)
            or set(entry) - {"name", "arguments"}
        ):
            raise ValueError(
                f"{where}: each of 'tool_calls' must be a mapping with 'name' (string) "
                "and optional 'arguments' (mapping)"
            )
        calls.append(ToolCall(name=entry["name"], arguments=entry.get("arguments", {})))
    return tuple(calls)
