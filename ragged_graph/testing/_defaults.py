"""Default models of the Ollama test server: real Ollama tags with realistic metadata."""

from __future__ import annotations

from ragged_graph.testing._scripts import ScriptedModel

__all__ = ["DEFAULT_MODELS", "default_model"]

DEFAULT_MODELS: tuple[ScriptedModel, ...] = (
    ScriptedModel(
        name="llama3.2:3b",
        family="llama",
        parameter_size="3.2B",
        parameter_count=3_212_749_888,
        size=2_019_393_189,
        context_length=131_072,
        capabilities=("completion", "tools"),
        loaded=True,
    ),
    ScriptedModel(
        name="qwen2.5:7b",
        family="qwen2",
        parameter_size="7.6B",
        parameter_count=7_615_616_512,
        size=4_683_087_332,
        context_length=32_768,
        capabilities=("completion", "tools"),
    ),
    ScriptedModel(
        name="qwen2.5-coder:7b",
        family="qwen2",
        parameter_size="7.6B",
        parameter_count=7_615_616_512,
        size=4_683_087_561,
        context_length=32_768,
        capabilities=("completion", "tools", "insert"),
    ),
    ScriptedModel(
        name="qwen2.5:14b",
        family="qwen2",
        parameter_size="14.8B",
        parameter_count=14_770_033_664,
        size=8_988_124_069,
        context_length=32_768,
        capabilities=("completion", "tools"),
    ),
    ScriptedModel(
        name="llama3.3:70b",
        family="llama",
        parameter_size="70.6B",
        parameter_count=70_553_706_560,
        size=42_520_413_916,
        context_length=131_072,
        capabilities=("completion", "tools"),
    ),
    ScriptedModel(
        name="gemma3:4b",
        family="gemma3",
        parameter_size="4.3B",
        parameter_count=4_299_915_632,
        size=3_338_801_804,
        context_length=131_072,
        capabilities=("completion", "vision"),
    ),
    ScriptedModel(
        name="deepseek-r1:8b",
        family="qwen3",
        parameter_size="8.2B",
        parameter_count=8_190_735_360,
        size=5_225_376_047,
        context_length=131_072,
        capabilities=("completion", "thinking"),
        thinking="The user asked a question. I will answer it briefly.",
    ),
    ScriptedModel(
        name="nomic-embed-text:latest",
        family="nomic-bert",
        parameter_size="137M",
        parameter_count=136_727_040,
        quantization_level="F16",
        size=274_302_450,
        context_length=2_048,
        capabilities=("embedding",),
    ),
)
"""What a bare test server lists: five chat models of three tiers (3B to 70B, with tools),
a vision model, a thinking model and an embedding model. Only `llama3.2:3b` is loaded."""


def default_model(name: str) -> ScriptedModel | None:
    """The default model with this tag (a bare name means `:latest`), if any."""
    for model in DEFAULT_MODELS:
        if name in (model.name, model.tag):
            return model
    return None
