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


def test_the_test_command_in_the_readme_is_the_one_ci_runs() -> None:
    text = README.read_text("utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.DOTALL)
    ci = (README.parent / ".ci" / "run").read_text("utf-8")
    assert commands[1] in ci
