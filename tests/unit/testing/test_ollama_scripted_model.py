"""Unit tests of the scripting value types of the Ollama test server (no network)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from ragged_graph.testing import (
    DEFAULT_MODELS,
    ChatRequest,
    Fault,
    Reply,
    ScriptedModel,
    ToolCall,
)
from ragged_graph.testing._json_schema import example_from_schema
from ragged_graph.testing._scripts import normalise_name, split_chunks


def chat(prompt: str = "What is 2+2?", **body: Any) -> ChatRequest:
    messages = body.pop("messages", [{"role": "user", "content": prompt}])
    return ChatRequest.from_body({"model": "m:1b", "messages": messages, **body})


class TestScriptedModelIsAFrozenKeywordOnlyValue:
    def test_fields_cannot_be_reassigned(self) -> None:
        model = ScriptedModel(name="m:1b")
        with pytest.raises(dataclasses.FrozenInstanceError):
            model.name = "other"  # type: ignore[misc]

    def test_positional_arguments_are_refused(self) -> None:
        with pytest.raises(TypeError):
            ScriptedModel("m:1b")  # type: ignore[call-arg]

    def test_every_field_has_a_docstring_in_the_source(self) -> None:
        import inspect

        source = inspect.getsource(ScriptedModel)
        for f in dataclasses.fields(ScriptedModel):
            after = source.split(f"\n    {f.name}:", 1)[1].split("\n", 2)[1]
            assert after.strip().startswith('"""'), f"field {f.name} has no docstring"

    def test_lists_become_tuples(self) -> None:
        model = ScriptedModel(name="m:1b", capabilities=["completion"])  # type: ignore[arg-type]
        assert model.capabilities == ("completion",)

    def test_equal_scripts_compare_equal(self) -> None:
        assert ScriptedModel(name="m:1b", answer="x") == ScriptedModel(name="m:1b", answer="x")


class TestScriptedModelValidation:
    @pytest.mark.parametrize("name", ["", "has space:1b"])
    def test_bad_names_are_refused(self, name: str) -> None:
        with pytest.raises(ValueError, match="name"):
            ScriptedModel(name=name)

    @pytest.mark.parametrize("size", ["7", "7.6b", "seven B", "7.6G"])
    def test_parameter_size_must_look_like_ollamas(self, size: str) -> None:
        with pytest.raises(ValueError, match="parameter_size"):
            ScriptedModel(name="m:1b", parameter_size=size)

    def test_fail_times_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="fail_times"):
            ScriptedModel(name="m:1b", fault=Fault.SERVER_ERROR, fail_times=0)

    def test_negative_delays_are_refused(self) -> None:
        with pytest.raises(ValueError, match="chunk_delay"):
            ScriptedModel(name="m:1b", chunk_delay=-0.1)

    def test_answer_and_template_are_exclusive(self) -> None:
        with pytest.raises(ValueError, match="answer_template"):
            ScriptedModel(name="m:1b", answer="a", answer_template="{prompt}")

    def test_fault_given_as_string_becomes_a_fault(self) -> None:
        model = ScriptedModel(name="m:1b", fault="hang")  # type: ignore[arg-type]
        assert model.fault is Fault.HANG


class TestDerivedListingData:
    def test_bare_name_means_latest(self) -> None:
        assert ScriptedModel(name="mistral").tag == "mistral:latest"
        assert normalise_name("hf.co/org/model") == "hf.co/org/model:latest"
        assert normalise_name("localhost:5000/lib/m") == "localhost:5000/lib/m:latest"

    @pytest.mark.parametrize(
        ("size", "count"), [("7.6B", 7_600_000_000), ("137M", 137_000_000), ("1.5T", 1.5e12)]
    )
    def test_parameter_count_follows_parameter_size(self, size: str, count: float) -> None:
        assert ScriptedModel(name="m:1b", parameter_size=size).resolved_parameter_count == count

    def test_digest_is_stable_sha256_hex(self) -> None:
        a = ScriptedModel(name="m:1b").resolved_digest
        assert a == ScriptedModel(name="m:1b").resolved_digest
        assert len(a) == 64
        assert int(a, 16) >= 0
        assert a != ScriptedModel(name="n:1b").resolved_digest

    def test_size_vram_defaults_to_the_whole_model(self) -> None:
        assert ScriptedModel(name="m:1b", size=10).resolved_size_vram == 10
        assert ScriptedModel(name="m:1b", size=10, size_vram=0).resolved_size_vram == 0


class TestDefaultModels:
    def test_default_tags_are_real_ollama_tags(self) -> None:
        tags = {m.tag for m in DEFAULT_MODELS}
        assert {"llama3.2:3b", "qwen2.5:7b", "qwen2.5-coder:7b", "qwen2.5:14b"} <= tags
        assert "llama3.3:70b" in tags
        assert not tags & {"llama3.2:8b", "llama3.1:30b"}

    def test_defaults_span_capabilities(self) -> None:
        capabilities = {c for m in DEFAULT_MODELS for c in m.capabilities}
        assert {"completion", "tools", "vision", "thinking", "embedding"} <= capabilities

    def test_sizes_grow_with_parameters(self) -> None:
        chat_models = [m for m in DEFAULT_MODELS if m.quantization_level == "Q4_K_M"]
        ordered = sorted(chat_models, key=lambda m: m.resolved_parameter_count)
        assert [m.size for m in ordered] == sorted(m.size for m in ordered)


class TestAnswers:
    def test_default_answer_names_the_model_and_echoes_the_prompt(self) -> None:
        reply = ScriptedModel(name="m:1b").render(chat("Hi there"))
        assert reply == Reply(content="This is m:1b. You asked: Hi there")

    def test_fixed_answer(self) -> None:
        assert ScriptedModel(name="m:1b", answer="42").render(chat()).content == "42"

    def test_template_sees_prompt_system_and_model(self) -> None:
        model = ScriptedModel(name="m:1b", answer_template="[{model}|{system}] {prompt} {{x}}")
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ]
        assert model.render(chat(messages=messages)).content == "[m:1b|Be brief.] second {x}"

    def test_answer_function_receives_the_parsed_request(self) -> None:
        seen: list[ChatRequest] = []

        def answer(request: ChatRequest) -> str:
            seen.append(request)
            return request.prompt.upper()

        reply = ScriptedModel(name="m:1b", answer=answer).render(chat("shout", stream=False))
        assert reply.content == "SHOUT"
        assert seen[0].stream is False
        assert seen[0].model == "m:1b"

    def test_answer_function_may_return_a_reply_with_tool_calls(self) -> None:
        call = ToolCall(name="add", arguments={"a": 1})
        model = ScriptedModel(name="m:1b", answer=lambda r: Reply(tool_calls=(call,)))
        assert model.render(chat()).tool_calls == (call,)

    def test_text_content_parts_count_as_the_prompt(self) -> None:
        content = [{"type": "text", "text": "look "}, {"type": "text", "text": "here"}]
        assert chat(messages=[{"role": "user", "content": content}]).prompt == "look here"


class TestToolCalls:
    tools = ({"type": "function", "function": {"name": "get_weather", "parameters": {}}},)
    call = ToolCall(name="get_weather", arguments={"city": "Paris"})

    def test_tool_calls_need_offered_tools(self) -> None:
        model = ScriptedModel(name="m:1b", tool_calls=(self.call,), answer="plain")
        assert model.render(chat()).content == "plain"
        assert model.render(chat(tools=list(self.tools))).tool_calls == (self.call,)

    def test_after_a_tool_result_the_model_answers_in_text(self) -> None:
        model = ScriptedModel(name="m:1b", tool_calls=(self.call,), answer="It is sunny.")
        messages = [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "x"}}]},
            {"role": "tool", "content": "sunny"},
        ]
        reply = model.render(chat(messages=messages, tools=list(self.tools)))
        assert reply == Reply(content="It is sunny.")

    def test_arguments_are_read_only_copies(self) -> None:
        arguments = {"city": "Paris"}
        call = ToolCall(name="w", arguments=arguments)
        arguments["city"] = "Rome"
        assert call.arguments == {"city": "Paris"}
        with pytest.raises(TypeError):
            call.arguments["city"] = "Rome"  # type: ignore[index]

    def test_tool_names_of_the_request(self) -> None:
        assert chat(tools=list(self.tools)).tool_names == ("get_weather",)


class TestStructuredOutput:
    schema: dict[str, Any] = {  # noqa: RUF012
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "pet": {"$ref": "#/$defs/Pet"},
            "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "$defs": {"Pet": {"type": "object", "properties": {"kind": {"enum": ["cat", "dog"]}}}},
        "required": ["name", "age"],
    }

    def test_schema_gets_a_matching_instance(self) -> None:
        reply = ScriptedModel(name="m:1b").render(chat(format=self.schema))
        assert json.loads(reply.content) == {
            "name": "example",
            "age": 1,
            "tags": ["example"],
            "pet": {"kind": "cat"},
            "nickname": None,
        }

    def test_structured_answer_wins(self) -> None:
        model = ScriptedModel(name="m:1b", structured_answer={"name": "Ada", "age": 36})
        assert json.loads(model.render(chat(format=self.schema)).content)["name"] == "Ada"

    def test_a_json_fixed_answer_is_kept(self) -> None:
        model = ScriptedModel(name="m:1b", answer='{"name": "Bo", "age": 3}')
        assert model.render(chat(format=self.schema)).content == '{"name": "Bo", "age": 3}'

    def test_plain_json_mode_wraps_the_text(self) -> None:
        model = ScriptedModel(name="m:1b", answer="hello")
        assert json.loads(model.render(chat(format="json")).content) == {"answer": "hello"}

    def test_example_from_nullable_type_list(self) -> None:
        assert example_from_schema({"type": ["null", "number"]}) == 1.0

    def test_example_honours_string_formats(self) -> None:
        from datetime import datetime

        from pydantic import BaseModel

        class Event(BaseModel):
            when: datetime

        reply = ScriptedModel(name="m:1b").render(chat(format=Event.model_json_schema()))
        assert Event.model_validate_json(reply.content).when.year == 2025


class TestThinking:
    def test_thinking_needs_the_capability(self) -> None:
        plain = ScriptedModel(name="m:1b", thinking="hmm")
        thinker = dataclasses.replace(plain, capabilities=("completion", "thinking"))
        assert plain.render(chat()).thinking is None
        assert thinker.render(chat()).thinking == "hmm"
        assert thinker.render(chat(think=False)).thinking is None


class TestFaultTexts:
    def test_out_of_memory_text_is_ollamas(self) -> None:
        model = ScriptedModel(name="m:1b", size=8 * 1024**3, available_memory_gib=3.2)
        assert model.out_of_memory_message() == (
            "model requires more system memory (9.2 GiB) than is available (3.2 GiB)"
        )


class TestChunking:
    @pytest.mark.parametrize("text", ["", "one", "Hello, world!", "  lead\n\nand  trail  "])
    def test_chunks_join_back_to_the_text(self, text: str) -> None:
        assert "".join(split_chunks(text)) == text

    def test_chunks_are_words_with_their_leading_space(self) -> None:
        assert split_chunks("The cat sat.") == ["The", " cat", " sat."]


class TestChatRequestParsing:
    def test_stream_defaults_to_true_like_ollama(self) -> None:
        assert chat().stream is True
        assert chat(stream=False).stream is False

    def test_empty_format_means_none(self) -> None:
        assert chat(format="").format is None

    def test_missing_fields_are_tolerated(self) -> None:
        request = ChatRequest.from_body({"model": "m"})
        assert (request.prompt, request.system, request.last_role) == ("", "", "")
