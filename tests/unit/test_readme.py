"""The README shows what the code does: its graph picture and its set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_graph_picture_is_drawn_from_the_graph_itself() -> None:
    from ragged_graph import graph

    drawn = graph.get_graph().draw_mermaid().strip()
    block = re.search(r"```mermaid\n(.*?)\n```", README.read_text("utf-8"), re.DOTALL)
    assert block is not None
    assert block.group(1).strip() == drawn


def test_the_picture_with_the_ensemble_subgraph_is_drawn_from_the_graph_itself() -> None:
    from ragged_graph import graph

    drawn = graph.get_graph(xray=True).draw_mermaid().strip()
    block = re.search(
        r"get_graph\(xray=True\).*?\n```mermaid\n(.*?)\n```", README.read_text("utf-8"), re.DOTALL
    )
    assert block is not None
    assert block.group(1).strip() == drawn
    assert "subgraph ensemble" in drawn


def test_the_test_command_in_the_readme_is_the_one_ci_runs() -> None:
    text = README.read_text("utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.DOTALL)
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert commands[1] in ci


def _key_paths(model: type, prefix: str = "") -> list[str]:
    from pydantic import BaseModel

    paths = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        path = f"{prefix}{name}"
        paths.append(path)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += _key_paths(annotation, path + ".")
    return paths


def test_every_config_key_is_in_the_configuration_reference() -> None:
    from ragged_graph.config import RouterConfig

    text = README.read_text("utf-8")
    missing = [path for path in _key_paths(RouterConfig) if f"| `{path}` |" not in text]
    assert missing == []
