"""LangChain's standard integration tests for `RaggedRouter`, against the Ollama test server.

The server speaks Ollama's real wire format; `RaggedRouter` routes each call and reaches it
through the real `ChatOllama`. Its models answer from a script (`_answer` below): a tool
call for the tool the request offers (arguments taken from the prompt where the standard
test spells them out), a joke as JSON when structured output is asked for, and a fixed
greeting otherwise. The script stands in for the model; what is under test is everything
between the caller and the wire: routing, tool binding, structured output, streaming,
usage metadata, message histories.

Skipped (each through its documented property), and why:

- test_tool_choice: Ollama has no `tool_choice`; `ChatOllama.bind_tools` ignores the
  argument, so a tool call cannot be forced (`has_tool_choice = False`).
- test_invoke_with_model_override, test_ainvoke_with_model_override,
  test_stream_with_model_override, test_astream_with_model_override: `RaggedRouter` takes an
  explicit model only at construction; a per-call `model=` is refused
  (`supports_model_override = False`).
- test_image_inputs, test_image_tool_message: the router does not yet require vision when
  a message holds an image, and the test server does not model answers about images
  (`supports_image_inputs = supports_image_tool_message = False`). The tests also download
  the image from the internet.
- test_pdf_inputs, test_pdf_tool_message, test_audio_inputs: Ollama takes no PDF or audio
  content (`supports_pdf_inputs`, `supports_pdf_tool_message`, `supports_audio_inputs` False).
- test_anthropic_inputs: Anthropic-format tools and `tool_use`/`thinking` content blocks are
  not part of Ollama's API (`supports_anthropic_inputs = False`).
- test_stream_time: needs VCR cassettes of a real provider (`enable_vcr_tests = False`).

Expected failures, product bugs reported to the lead (strict: they turn red once fixed):

- test_structured_output[*], test_structured_output_async[*]: one call fires
  `on_chat_model_start` twice (RaggedRouter's run and the inner ChatOllama's), and
  RaggedRouter's own run lacks `ls_structured_output_format`.
- test_structured_output_pydantic_2_v1, test_json_mode: `stream()` of
  `with_structured_output(...)` yields None.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.testing import (
    DEFAULT_MODELS,
    ChatRequest,
    OllamaServer,
    Reply,
    ToolCall,
)

pytestmark = pytest.mark.integration

_GREETING = "Hello! How can I help you today?"
_JOKE = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse.",
}
# What the standard tests' prompts ask each tool to be called with.
_FIXED_ARGUMENTS: dict[str, dict[str, Any]] = {
    "magic_function": {"input": 3},
    "magic_function_no_args": {},
    "greeting_generator": {"answer_style": "pirate"},
    "get_weather": {"location": "San Francisco, CA"},
}
_QUOTED = re.compile(r"'([^']+)'")
_SUM = re.compile(r"(\d+)\s*\+\s*(\d+)")


def _tool_call(request: ChatRequest) -> ToolCall | None:
    """The call a model would make to the first offered tool it can fill in, if any."""
    for name in request.tool_names:
        if name in _FIXED_ARGUMENTS:
            return ToolCall(name=name, arguments=_FIXED_ARGUMENTS[name])
        if name == "unicode_customer" and (quoted := _QUOTED.search(request.prompt)):
            return ToolCall(
                name=name,
                arguments={"customer_name": quoted.group(1), "description": request.prompt},
            )
        if name == "my_adder_tool" and (numbers := _SUM.search(request.prompt)):
            a, b = (int(n) for n in numbers.groups())
            return ToolCall(name=name, arguments={"a": a, "b": b})
    return None


def _answer(request: ChatRequest) -> str | Reply:
    if request.tools and request.last_role != "tool":
        call = _tool_call(request)
        if call is not None:
            return Reply(tool_calls=(call,))
    if request.format is not None:
        return json.dumps(_JOKE)
    return _GREETING


_STRUCTURED_STREAM_IS_NONE = (
    "product bug: stream() of RaggedRouter.with_structured_output(...) yields None: with a "
    "schema the invoke node does not stream, and the final routing chunk lacks "
    "additional_kwargs['parsed']"
)
_DOUBLE_CHAT_MODEL_RUN = (
    "product bug: one invoke fires on_chat_model_start twice (RaggedRouter's run, then the "
    "inner ChatOllama's, which inherits the caller's handlers), and RaggedRouter's own run "
    "lacks ls_structured_output_format; streaming then yields None "
    f"({_STRUCTURED_STREAM_IS_NONE})"
)

# The default test models that chat and take tools (3B to 70B), all answering from the script.
_MODELS = [
    dataclasses.replace(model, answer=_answer)
    for model in DEFAULT_MODELS
    if {"completion", "tools"} <= set(model.capabilities)
]


class TestRaggedRouterStandardIntegration(ChatModelIntegrationTests):
    server: OllamaServer
    config: RouterConfig

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _ollama(cls, router_config_for: Any) -> Iterator[None]:
        """One test server for the whole class; the model fixture's config points at it."""
        with OllamaServer(_MODELS) as server:
            cls.server = server
            cls.config = router_config_for(server)
            yield

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return RaggedRouter

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"config": self.config}

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        # Ollama has no tool_choice (ChatOllama.bind_tools ignores it).
        return False

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        # A per-call `model=` names the model to use, as `RaggedRouter(model=...)` does.
        return True

    @property
    def model_override_value(self) -> str:
        return "qwen2.5:14b"
