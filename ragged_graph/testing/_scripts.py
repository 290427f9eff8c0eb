"""Value types that script what the Ollama test server answers for one model."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from ragged_graph.testing._json_schema import example_from_schema

__all__ = [
    "AnswerFunction",
    "ChatRequest",
    "Fault",
    "Reply",
    "ScriptedModel",
    "ToolCall",
]

_GIB = 1024**3
_SIZE_SUFFIXES = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_PARAMETER_SIZE = re.compile(r"^\d+(\.\d+)?[KMBT]$")
_CHUNK = re.compile(r"\s*\S+|\s+")


class Fault(StrEnum):
    """A failure the server produces for `/api/chat` instead of an answer."""

    NOT_FOUND = "not_found"
    """404 `{"error": "model 'NAME' not found"}`, as if the model had never been pulled."""

    SERVER_ERROR = "server_error"
    """500 with a runner failure text (or `error_message`)."""

    OUT_OF_MEMORY = "out_of_memory"
    """500 `model requires more system memory (X GiB) than is available (Y GiB)`."""

    DROP_MID_STREAM = "drop_mid_stream"
    """Sends `drop_after_chunks` chunks, then closes the socket without ending the body."""

    STREAM_ERROR = "stream_error"
    """Sends `drop_after_chunks` chunks, then an NDJSON `{"error": ...}` line (status 200)."""

    HANG = "hang"
    """Never answers: no status line, until `hang_seconds` pass or the server stops."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCall:
    """One tool call the model makes, sent as `message.tool_calls[i].function`."""

    name: str
    """Name of the tool to call; should be one the request offered."""

    arguments: Mapping[str, Any] = field(default_factory=dict)
    """Arguments as a JSON object (Ollama sends an object, not a JSON string)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("ToolCall.name must not be empty")
        object.__setattr__(self, "arguments", MappingProxyType(dict(self.arguments)))


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    """What an answer function returns when plain text is not enough."""

    content: str = ""
    """The assistant text, streamed in word-sized chunks."""

    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls to return (sent whether or not the request offered tools)."""

    thinking: str | None = None
    """Reasoning text sent in `message.thinking` before the content."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatRequest:
    """A parsed `POST /api/chat` body, as handed to answer functions."""

    model: str
    """The model name exactly as the client sent it."""

    messages: tuple[Mapping[str, Any], ...] = ()
    """The chat messages (`role`, `content`, optionally `tool_calls`, `images`, ...)."""

    tools: tuple[Mapping[str, Any], ...] = ()
    """Tools offered, in OpenAI function format (`{"type": "function", "function": {...}}`)."""

    format: str | Mapping[str, Any] | None = None
    """`"json"`, a JSON schema, or None: what structured output the client asked for."""

    options: Mapping[str, Any] = field(default_factory=dict)
    """Runtime options (`temperature`, `num_ctx`, `stop`, ...)."""

    stream: bool = True
    """Whether the client wants NDJSON chunks (Ollama's default) or one JSON object."""

    think: bool | str | None = None
    """The `think` flag, if sent."""

    keep_alive: str | float | None = None
    """The `keep_alive` value, if sent."""

    body: Mapping[str, Any] = field(default_factory=dict)
    """The whole parsed JSON body."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ChatRequest:
        """Build from a decoded JSON body, tolerating missing or mistyped fields."""
        messages = body.get("messages") or ()
        tools = body.get("tools") or ()
        fmt = body.get("format")
        options = body.get("options")
        think = body.get("think")
        keep_alive = body.get("keep_alive")
        return cls(
            model=str(body.get("model") or ""),
            messages=tuple(m for m in messages if isinstance(m, Mapping)),
            tools=tuple(t for t in tools if isinstance(t, Mapping)),
            format=fmt if isinstance(fmt, str | Mapping) and fmt != "" else None,
            options=options if isinstance(options, Mapping) else {},
            stream=body.get("stream") is not False,
            think=think if isinstance(think, bool | str) else None,
            keep_alive=keep_alive if isinstance(keep_alive, str | int | float) else None,
            body=body,
        )

    @property
    def prompt(self) -> str:
        """Text of the last user message ("" when there is none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text(message.get("content"))
        return ""

    @property
    def system(self) -> str:
        """Text of the system messages, joined by blank lines."""
        return "\n\n".join(
            _text(m.get("content")) for m in self.messages if m.get("role") == "system"
        )

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Names of the tools offered."""
        names = []
        for tool in self.tools:
            function = tool.get("function")
            if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                names.append(function["name"])
        return tuple(names)

    @property
    def last_role(self) -> str:
        """Role of the last message ("" when there are no messages)."""
        return str(self.messages[-1].get("role", "")) if self.messages else ""


AnswerFunction: TypeAlias = Callable[[ChatRequest], "str | Reply"]
"""A callable that computes the answer from the request."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ScriptedModel:
    """One model the test server lists and answers for, with its scripted behaviour."""

    name: str
    """Full tag as Ollama lists it, e.g. `"qwen2.5:7b"` (a bare name means `:latest`)."""

    family: str = "llama"
    """Model family (`details.family`), and the default architecture."""

    families: tuple[str, ...] | None = None
    """`details.families`; None means `(family,)`."""

    architecture: str | None = None
    """`model_info["general.architecture"]`; None means `family`."""

    parameter_size: str = "7.6B"
    """Ollama's parameter size string, e.g. `"3.2B"`, `"70.6B"`, `"137M"`."""

    parameter_count: int | None = None
    """`general.parameter_count`; None derives it from `parameter_size`."""

    quantization_level: str = "Q4_K_M"
    """`details.quantization_level`, e.g. `"Q4_K_M"`, `"Q8_0"`, `"F16"`."""

    size: int = 4_683_087_332
    """Size in bytes, as listed by `/api/tags` (and `/api/ps` when loaded)."""

    context_length: int = 32_768
    """The model's trained context window (`model_info["<arch>.context_length"]`)."""

    loaded_context_length: int | None = None
    """Context length `/api/ps` reports; None means `min(context_length, 4096)`."""

    capabilities: tuple[str, ...] = ("completion", "tools")
    """`/api/show` capabilities: completion, tools, insert, vision, thinking, embedding."""

    loaded: bool = False
    """Whether `/api/ps` lists it from the start (a successful chat also loads it)."""

    size_vram: int | None = None
    """Bytes in GPU memory when loaded; None means all of `size` (0 means CPU only)."""

    digest: str | None = None
    """sha256 hex digest; None derives a stable one from `name`."""

    modified_at: str = "2025-06-01T12:00:00.000000000Z"
    """`modified_at` timestamp (RFC 3339) in `/api/tags` and `/api/show`."""

    extra_model_info: Mapping[str, Any] = field(default_factory=dict)
    """More `model_info` keys merged into `/api/show`."""

    answer: str | AnswerFunction | None = None
    """Fixed answer text, or a function of the `ChatRequest` returning text or a `Reply`.

    None (and no `answer_template`) answers `"This is MODEL. You asked: PROMPT"`."""

    answer_template: str | None = None
    """`str.format` template with `{prompt}`, `{system}`, `{model}` (double literal braces)."""

    structured_answer: Any = None
    """JSON value returned when the request asks for `format` (JSON or a schema).

    None answers a fixed `answer` that is valid JSON as is, else an instance built from the
    schema (`{"answer": ...}` for plain `"json"`). Answer functions always win."""

    tool_calls: tuple[ToolCall, ...] = ()
    """Tool calls returned when the request offers tools and its last message is not a tool
    result (so an agent loop ends with a text answer)."""

    thinking: str | None = None
    """Reasoning text streamed in `message.thinking` for models with the thinking capability
    (unless the request sends `think: false`)."""

    chunk_delay: float = 0.0
    """Seconds between streamed chunks."""

    first_token_delay: float = 0.0
    """Seconds before the first chunk (and the response headers), like model load + prefill."""

    done_reason: str = "stop"
    """`done_reason` of the final chunk (`"stop"` or `"length"`)."""

    prompt_eval_count: int | None = None
    """Input token count reported; None estimates it from the messages."""

    eval_count: int | None = None
    """Output token count reported; None counts the chunks sent."""

    fault: Fault | None = None
    """Failure produced for chat requests instead of the answer."""

    fail_times: int | None = None
    """Apply `fault` to only the first N chat requests, then answer normally (None = always)."""

    fault_rate: float = 1.0
    """Share of chat requests (0-1) that get `fault`, drawn from the server's seeded generator."""

    first_token_jitter: float = 0.0
    """Extra random delay (uniform, 0 to this many seconds) before the first token."""

    error_message: str | None = None
    """Error text for `SERVER_ERROR`, `OUT_OF_MEMORY` and `STREAM_ERROR` (None = realistic)."""

    drop_after_chunks: int = 2
    """Content chunks sent before `DROP_MID_STREAM` or `STREAM_ERROR` strikes."""

    hang_seconds: float = 30.0
    """Upper bound of a `HANG`; the connection is then closed without an answer."""

    available_memory_gib: float | None = None
    """Memory the `OUT_OF_MEMORY` text says is available; None = half of what is needed."""

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"ScriptedModel.name must be a non-empty tag, got {self.name!r}")
        if not _PARAMETER_SIZE.match(self.parameter_size):
            raise ValueError(
                f"ScriptedModel.parameter_size must look like '7.6B' or '137M', "
                f"got {self.parameter_size!r}"
            )
        for name in ("chunk_delay", "first_token_delay", "hang_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"ScriptedModel.{name} must be >= 0")
        for name in ("size", "context_length", "drop_after_chunks"):
            if getattr(self, name) < 0:
                raise ValueError(f"ScriptedModel.{name} must be >= 0")
        if self.fail_times is not None and self.fail_times < 1:
            raise ValueError("ScriptedModel.fail_times must be None or >= 1")
        if self.fault is not None and not isinstance(self.fault, Fault):
            object.__setattr__(self, "fault", Fault(self.fault))
        if self.answer is not None and self.answer_template is not None:
            raise ValueError("ScriptedModel takes `answer` or `answer_template`, not both")
        object.__setattr__(self, "capabilities", tuple(self.capabilities))
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.families is not None:
            object.__setattr__(self, "families", tuple(self.families))
        object.__setattr__(self, "extra_model_info", MappingProxyType(dict(self.extra_model_info)))

    @property
    def tag(self) -> str:
        """The name with an explicit tag (`llama3.2` becomes `llama3.2:latest`)."""
        return normalise_name(self.name)

    @property
    def arch(self) -> str:
        """The architecture name used for `model_info` keys."""
        return self.architecture or self.family

    @property
    def resolved_digest(self) -> str:
        """The digest, derived from the name when not given."""
        return self.digest or hashlib.sha256(self.tag.encode()).hexdigest()

    @property
    def resolved_parameter_count(self) -> int:
        """The parameter count, derived from `parameter_size` when not given."""
        if self.parameter_count is not None:
            return self.parameter_count
        return int(float(self.parameter_size[:-1]) * _SIZE_SUFFIXES[self.parameter_size[-1]])

    @property
    def resolved_size_vram(self) -> int:
        """Bytes in GPU memory when loaded."""
        return self.size if self.size_vram is None else self.size_vram

    def render(self, request: ChatRequest) -> Reply:
        """What this model answers to `request` (faults aside)."""
        if callable(self.answer):
            result = self.answer(request)
            return Reply(content=result) if isinstance(result, str) else result
        thinking = self.thinking if self._thinks(request) else None
        if request.format is not None:
            return Reply(content=self._structured(request), thinking=thinking)
        if self.tool_calls and request.tools and request.last_role != "tool":
            return Reply(tool_calls=self.tool_calls, thinking=thinking)
        return Reply(content=self._text(request), thinking=thinking)

    def out_of_memory_message(self) -> str:
        """The text Ollama gives when the model does not fit in memory."""
        if self.error_message is not None:
            return self.error_message
        needed = max(self.size, 1) * 1.15 / _GIB
        available = needed / 2 if self.available_memory_gib is None else self.available_memory_gib
        return (
            f"model requires more system memory ({needed:.1f} GiB) "
            f"than is available ({available:.1f} GiB)"
        )

    def _thinks(self, request: ChatRequest) -> bool:
        return (
            self.thinking is not None
            and "thinking" in self.capabilities
            and request.think is not False
        )

    def _text(self, request: ChatRequest) -> str:
        if isinstance(self.answer, str):
            return self.answer
        template = self.answer_template or "This is {model}. You asked: {prompt}"
        return template.format_map(
            {"prompt": request.prompt, "system": request.system, "model": request.model}
        )

    def _structured(self, request: ChatRequest) -> str:
        if self.structured_answer is not None:
            return json.dumps(self.structured_answer)
        if isinstance(self.answer, str):
            try:
                json.loads(self.answer)
            except ValueError:
                pass
            else:
                return self.answer
        if isinstance(request.format, Mapping):
            return json.dumps(example_from_schema(request.format))
        return json.dumps({"answer": self._text(request)})


def normalise_name(name: str) -> str:
    """Ollama's name rule: a name without a tag means `:latest`."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def split_chunks(text: str) -> list[str]:
    """Split text into word-sized chunks (leading whitespace kept) that join back to it."""
    return _CHUNK.findall(text)


def scripted_models(models: Iterable[ScriptedModel]) -> dict[str, ScriptedModel]:
    """Index models by normalised tag, refusing duplicates."""
    index: dict[str, ScriptedModel] = {}
    for model in models:
        if model.tag in index:
            raise ValueError(f"model {model.tag!r} is scripted twice")
        index[model.tag] = model
    return index


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) if isinstance(part, Mapping) else str(part)
            for part in content
        )
    return "" if content is None else str(content)
