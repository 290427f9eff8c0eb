"""Loading personas: the built-in files, a folder of YAML files, and the config's own.

One YAML file holds one persona; its name is the file name without ``.yaml``/``.yml``.
Errors name the file and the key inside it, as config errors do.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ragged_graph.config import RouterConfig, issues_from
from ragged_graph.errors import ConfigError, ConfigIssue
from ragged_graph.routing.personas import Persona, PersonaBook
from ragged_graph.routing.task_types import BUILTIN_TASK_TYPES

__all__ = ["builtin_personas", "load_persona_file", "load_persona_files", "persona_book"]

_SUFFIXES = (".yaml", ".yml")


def load_persona_file(name: str, text: str, *, source: str) -> Persona:
    """Parse one persona file's ``text``; ``source`` names it in errors."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [ConfigIssue(key="", problem=f"malformed YAML: {exc}")]) from None
    if not isinstance(data, dict):
        problem = f"expected a mapping of persona settings, got {type(data).__name__}"
        raise ConfigError(source, [ConfigIssue(key="", problem=problem)])
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, issues_from(exc)) from None


Loaded = dict[str, tuple[Persona, str]]
"""Personas by name, each with the file it came from."""


def load_persona_files(directory: Path, *, config_source: str | None = None) -> Loaded:
    """Every persona file in ``directory``, by name."""
    if not directory.is_dir():
        issue = ConfigIssue(key="persona_dir", problem=f"{directory} is not a folder")
        raise ConfigError(config_source, [issue])
    return {
        path.stem: (
            load_persona_file(path.stem, path.read_text("utf-8"), source=str(path)),
            str(path),
        )
        for path in sorted(directory.iterdir())
        if path.suffix in _SUFFIXES
    }


def builtin_personas() -> Loaded:
    """The personas shipped with ragged_graph."""
    folder = resources.files("ragged_graph.personas")
    loaded: Loaded = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(_SUFFIXES):
            source = f"<built-in persona file {entry.name}>"
            persona = load_persona_file(entry.name, entry.read_text("utf-8"), source=source)
            loaded[entry.name.rsplit(".", 1)[0]] = (persona, source)
    return loaded


def persona_book(config: RouterConfig) -> PersonaBook:
    """Built-in personas, then ``persona_dir``'s files, then the config's ``personas:``."""
    loaded = builtin_personas()
    if config.persona_dir is not None:
        folder = Path(config.persona_dir)
        if not folder.is_absolute() and config.source is not None:
            folder = Path(config.source).parent / folder
        loaded.update(load_persona_files(folder, config_source=config.source))
    inline = config.source or "<inline config>"
    for name, persona in config.personas.items():
        loaded[name] = (persona, f"{inline} (personas.{name})")
    return PersonaBook(
        {name: persona for name, (persona, _) in loaded.items()},
        sources={name: source for name, (_, source) in loaded.items()},
        known_tasks={*BUILTIN_TASK_TYPES, *config.tasks},
    )
