"""Test helpers, public for users' own tests: an Ollama-protocol server with scripted models.

    from ragged_graph.testing import OllamaServer, ScriptedModel, Fault

    with OllamaServer([ScriptedModel(name="qwen2.5:7b", answer="Hi")]) as server:
        ChatOllama(model="qwen2.5:7b", base_url=server.base_url).invoke("Hello")

`LangSmithReceiver` takes the runs the real `langsmith` client sends, for tests to read.
`OpenAIServer` is an OpenAI-compatible chat server standing in for a cloud model.

The pytest fixtures `ollama_server`, `ollama_server_factory` and `langsmith_receiver` come
with the package (pytest plugin `ragged_graph.testing.pytest_plugin`).
"""

from ragged_graph.testing._defaults import DEFAULT_MODELS
from ragged_graph.testing._records import RecordedRequest
from ragged_graph.testing._script_files import load_script, model_from_mapping
from ragged_graph.testing._scripts import (
    AnswerFunction,
    ChatRequest,
    Fault,
    Reply,
    ScriptedModel,
    ToolCall,
)
from ragged_graph.testing._server import OLLAMA_VERSION, OllamaServer
from ragged_graph.testing.langsmith_receiver import (
    LangSmithReceiver,
    ReceivedRequest,
    ReceivedRun,
)
from ragged_graph.testing.openai_server import OpenAIServer

__all__ = [
    "DEFAULT_MODELS",
    "OLLAMA_VERSION",
    "AnswerFunction",
    "ChatRequest",
    "Fault",
    "LangSmithReceiver",
    "OllamaServer",
    "OpenAIServer",
    "ReceivedRequest",
    "ReceivedRun",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "ToolCall",
    "load_script",
    "model_from_mapping",
]
