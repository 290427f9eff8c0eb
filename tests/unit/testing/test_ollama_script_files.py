"""Unit tests of reading Ollama test-server scripts from YAML and JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragged_graph.testing import DEFAULT_MODELS, Fault, ToolCall, load_script, model_from_mapping


def test_yaml_script_builds_models(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        """
models:
  - name: my-model:1b
    parameter_size: 1.2B
    capabilities: [completion]
    answer: Hello
    fault: server_error
    fail_times: 2
    tool_calls:
      - name: get_weather
        arguments: {city: Paris}
""",
        encoding="utf-8",
    )
    [model] = load_script(path)
    assert model.tag == "my-model:1b"
    assert model.capabilities == ("completion",)
    assert (model.answer, model.fault, model.fail_times) == ("Hello", Fault.SERVER_ERROR, 2)
    assert model.tool_calls == (ToolCall(name="get_weather", arguments={"city": "Paris"}),)


def test_json_list_script(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps([{"name": "a:1b"}, {"name": "b:2b"}]), encoding="utf-8")
    assert [m.tag for m in load_script(path)] == ["a:1b", "b:2b"]


def test_a_default_tag_starts_from_the_default_metadata() -> None:
    model = model_from_mapping({"name": "qwen2.5:14b", "answer": "x"})
    assert (model.parameter_size, model.family, model.answer) == ("14.8B", "qwen2", "x")


def test_include_defaults_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text("include_defaults: true\nmodels:\n  - {name: qwen2.5:7b, answer: hi}\n")
    models = {m.tag: m for m in load_script(path)}
    assert set(models) == {m.tag for m in DEFAULT_MODELS}
    assert models["qwen2.5:7b"].answer == "hi"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"answer": "x"}, "key 'name' is required"),
        ({"name": "m:1b", "anwser": "x"}, "unknown key 'anwser'"),
        ({"name": "m:1b", "fault": "explode"}, "key 'fault' must be one of"),
        ({"name": "m:1b", "capabilities": "tools"}, "'capabilities' must be a list"),
        ({"name": "m:1b", "tool_calls": [{"nom": "x"}]}, "each of 'tool_calls'"),
        ({"name": "m:1b", "parameter_size": "big"}, "parameter_size"),
    ],
)
def test_errors_name_the_source_and_key(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        model_from_mapping(entry, source="file.yaml: models[0]")
    assert str(info.value).startswith("file.yaml: models[0]")


def test_unknown_top_level_key_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("modles: []\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown key 'modles'"):
        load_script(path)
