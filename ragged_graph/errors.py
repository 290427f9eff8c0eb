"""Typed errors raised by ragged_graph.

Every error carries a stable ``code`` (for logs, metrics and programmatic handling) and a
message that says what was wrong and what to do about it. Each subclasses the builtin that
fits, so callers that already catch ``ValueError`` or ``LookupError`` keep working.

The hierarchy::

    RaggedGraphError
    ├── ConfigError (ValueError)             a config file or value is invalid
    ├── InvalidRequestError (ValueError)     a request that cannot be routed as given
    │   └── ContextOverflowError                 longer than every available context window
    ├── UnknownModelError (LookupError)      a model name the registry does not know
    ├── NoModelAvailableError (LookupError)  no installed model fits the memory budget
    │   └── AllModelsFailedError                 every model of the fallback chain failed
    ├── UnknownPersonaError (LookupError)    a persona name the config does not define
    ├── UnknownExperimentError (LookupError) an A/B experiment name the config does not define
    ├── ProviderError                        a model call failed; ``retryable`` says if transient
    │   ├── ModelNotFoundError (LookupError)     the host does not have the model (404)
    │   ├── ModelLoadError (MemoryError)         the host could not load it (out of memory)
    │   ├── HostUnavailableError (ConnectionError)  the host refused or dropped the connection
    │   ├── ProviderTimeoutError (TimeoutError)  no answer within the timeout
    │   ├── StreamInterruptedError (ConnectionError)  the stream broke after it started
    │   ├── RateLimitedError (RuntimeError)      the provider asked to slow down (429)
    │   ├── BadRequestError (ValueError)         the provider refused this request (400)
    │   ├── ModelCoolingDownError (RuntimeError) skipped: failing recently (circuit open)
    │   ├── PrivacyGuardError (PermissionError)  refused: private data may not go to a cloud model
    │   └── ProviderServerError (RuntimeError)   any other server-side failure (5xx)
    ├── HardwareDetectionError (RuntimeError) a detection tool answered with garbage
    ├── EvaluationDataError (ValueError)     a golden, RouteLLM or labelled-query file is bad
    └── LearnedModelError (ValueError)       a learned router or task model file is unusable
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = [
    "AllModelsFailedError",
    "BadRequestError",
    "ConfigError",
    "ConfigIssue",
    "ContextOverflowError",
    "ErrorCode",
    "EvaluationDataError",
    "FailedAttempt",
    "HardwareDetectionError",
    "HostUnavailableError",
    "InvalidRequestError",
    "LearnedModelError",
    "ModelCoolingDownError",
    "ModelLoadError",
    "ModelNotFoundError",
    "NoModelAvailableError",
    "PrivacyGuardError",
    "ProviderError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RaggedGraphError",
    "RateLimitedError",
    "StreamInterruptedError",
    "UnknownExperimentError",
    "UnknownModelError",
    "UnknownPersonaError",
]


class ErrorCode(StrEnum):
    """Stable identifiers for every error ragged_graph raises."""

    INVALID_CONFIG = "INVALID_CONFIG"
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    INVALID_REQUEST = "INVALID_REQUEST"
    CONTEXT_OVERFLOW = "CONTEXT_OVERFLOW"
    RATE_LIMITED = "RATE_LIMITED"
    BAD_REQUEST = "BAD_REQUEST"
    COOLING_DOWN = "COOLING_DOWN"
    HARDWARE_DETECTION = "HARDWARE_DETECTION"
    NO_MODEL_AVAILABLE = "NO_MODEL_AVAILABLE"
    UNKNOWN_PERSONA = "UNKNOWN_PERSONA"
    UNKNOWN_EXPERIMENT = "UNKNOWN_EXPERIMENT"
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    MODEL_LOAD_FAILED = "MODEL_LOAD_FAILED"
    HOST_UNAVAILABLE = "HOST_UNAVAILABLE"
    PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
    STREAM_INTERRUPTED = "STREAM_INTERRUPTED"
    PROVIDER_SERVER_ERROR = "PROVIDER_SERVER_ERROR"
    ALL_MODELS_FAILED = "ALL_MODELS_FAILED"
    PRIVACY_GUARD = "PRIVACY_GUARD"
    LEARNED_MODEL = "LEARNED_MODEL"
    EVALUATION_DATA = "EVALUATION_DATA"


class RaggedGraphError(Exception):
    """Base class of every error ragged_graph raises on purpose."""

    code: ErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


@dataclass(frozen=True, kw_only=True)
class ConfigIssue:
    """One problem found in a configuration source."""

    key: str
    """Dotted path of the offending key, e.g. ``models.2.tier``; empty for the whole file."""

    problem: str
    """What was wrong and what was expected."""

    def render(self) -> str:
        where = self.key or "<top level>"
        return f"{where}: {self.problem}"


class ConfigError(RaggedGraphError, ValueError):
    """A configuration file or value is invalid.

    The message names the file (or ``<inline config>``), every offending key path and what
    was expected there.
    """

    code = ErrorCode.INVALID_CONFIG

    def __init__(self, source: Path | str | None, issues: Sequence[ConfigIssue]) -> None:
        self.source = str(source) if source is not None else "<inline config>"
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {issue.render()}" for issue in self.issues)
        noun = "problem" if len(self.issues) == 1 else "problems"
        super().__init__(
            f"invalid configuration in {self.source} ({len(self.issues)} {noun}):\n{lines}"
        )


class InvalidRequestError(RaggedGraphError, ValueError):
    """A request that cannot be routed as given; the message says what to change."""

    code = ErrorCode.INVALID_REQUEST


class ContextOverflowError(InvalidRequestError):
    """The request needs more tokens than any available model's context window holds."""

    code = ErrorCode.CONTEXT_OVERFLOW

    def __init__(self, needed: int, largest: int) -> None:
        self.needed = needed
        self.largest = largest
        super().__init__(
            f"the request needs about {needed:,} tokens but the largest context window among "
            f"the available models is {largest:,}. Shorten the query, pass fewer or shorter "
            "documents (retrieve the most relevant chunks), or install a long-context model."
        )


class UnknownModelError(RaggedGraphError, LookupError):
    """A model name that no registry source knows."""

    code = ErrorCode.UNKNOWN_MODEL

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        shown = ", ".join(self.known[:20]) + (" ..." if len(self.known) > 20 else "")
        super().__init__(
            f"unknown model {name!r}; known models: {shown}. "
            "Pull it with `ollama pull NAME` or add it under `models:` in your config file."
        )


class NoModelAvailableError(RaggedGraphError, LookupError):
    """No model is both installed and within the memory budget, so nothing can be chosen."""

    code = ErrorCode.NO_MODEL_AVAILABLE

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"no model can serve this request: {detail}. Pull a model that fits "
            "(`ollama pull llama3.2:3b`), check `ragged-graph models`, or raise the budget "
            "under `hardware:` in your config."
        )


class UnknownPersonaError(RaggedGraphError, LookupError):
    """A persona name that is not defined."""

    code = ErrorCode.UNKNOWN_PERSONA

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "none are defined"
        super().__init__(
            f"unknown persona {name!r}; known personas: {listed}. "
            "Define it under `personas:` in your config file."
        )


class UnknownExperimentError(RaggedGraphError, LookupError):
    """An A/B experiment name that is not defined."""

    code = ErrorCode.UNKNOWN_EXPERIMENT

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        listed = ", ".join(self.known) if self.known else "none are defined"
        super().__init__(
            f"unknown experiment {name!r}; known experiments: {listed}. "
            "Define it under `experiments:` in your config file (`ragged-graph ab list` "
            "shows them)."
        )


class HardwareDetectionError(RaggedGraphError, RuntimeError):
    """A hardware tool ran but its output could not be understood."""

    code = ErrorCode.HARDWARE_DETECTION


class LearnedModelError(RaggedGraphError, ValueError):
    """A saved learned router (or learned task model, ``kind``) cannot be used: missing,
    corrupt, of another format version, or built on other embeddings than the ones given. The
    message names the file and what to do (usually: retrain and save it again with this
    version of ragged_graph)."""

    code = ErrorCode.LEARNED_MODEL

    def __init__(
        self,
        path: Path | str | None,
        problem: str,
        *,
        remedy: str = "",
        kind: str = "learned router",
    ) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path else ""
        advice = remedy or (
            "Retrain the router on your routing history and save it again "
            "(LearnedRouter.fit(...).save(path))."
        )
        super().__init__(f"{kind} {where}{problem}. {advice}")


class ProviderError(RaggedGraphError):
    """A call to a model failed. Subclasses say how; ``retryable`` says whether it may pass."""

    code: ErrorCode = ErrorCode.PROVIDER_SERVER_ERROR
    retryable: bool = False
    hint: str = ""

    def __init__(self, detail: str, *, model: str, host: str | None = None) -> None:
        self.model = model
        self.host = host
        self.detail = detail
        where = f" on {host}" if host else ""
        hint = f" {self.hint}" if self.hint else ""
        super().__init__(f"{model}{where}: {detail}.{hint}")


class ModelNotFoundError(ProviderError, LookupError):
    code = ErrorCode.MODEL_NOT_FOUND
    hint = "Pull it with `ollama pull MODEL`, or check `ragged-graph models`."


class ModelLoadError(ProviderError, MemoryError):
    code = ErrorCode.MODEL_LOAD_FAILED
    hint = "Choose a smaller model or lower `hardware.memory_gb` so it is not chosen."


class HostUnavailableError(ProviderError, ConnectionError):
    code = ErrorCode.HOST_UNAVAILABLE
    retryable = True
    hint = "Start Ollama with `ollama serve`, or set OLLAMA_HOST to where it runs."


class ProviderTimeoutError(ProviderError, TimeoutError):
    code = ErrorCode.PROVIDER_TIMEOUT
    retryable = True
    hint = "Raise `providers.ollama.request_timeout_s` if the model is just slow."


class StreamInterruptedError(ProviderError, ConnectionError):
    code = ErrorCode.STREAM_INTERRUPTED
    retryable = True

    def __init__(
        self, detail: str, *, model: str, host: str | None = None, partial_text: str = ""
    ) -> None:
        self.partial_text = partial_text
        super().__init__(detail, model=model, host=host)


class ProviderServerError(ProviderError, RuntimeError):
    code = ErrorCode.PROVIDER_SERVER_ERROR
    retryable = True


class RateLimitedError(ProviderError, RuntimeError):
    code = ErrorCode.RATE_LIMITED
    retryable = True
    hint = "Lower the request rate or raise the provider's limits."


class BadRequestError(ProviderError, ValueError):
    code = ErrorCode.BAD_REQUEST
    hint = "The model cannot serve this request as sent (e.g. tools or images it lacks)."


class ModelCoolingDownError(ProviderError, RuntimeError):
    code = ErrorCode.COOLING_DOWN
    hint = "It failed repeatedly; it is tried again once its cooldown ends."


class PrivacyGuardError(ProviderError, PermissionError):
    """A cloud model was not called: the request must stay on this machine (the privacy
    guard at the call, behind the router's own choice of local models)."""

    code = ErrorCode.PRIVACY_GUARD
    hint = "The request holds personal data or secrets, or was marked local-only."


@dataclass(frozen=True, kw_only=True)
class FailedAttempt:
    """One failed call of a fallback chain."""

    model: str
    """The model called."""
    host: str | None
    """The host it was called on."""
    code: str
    """The typed error's code."""
    message: str
    """The typed error's message."""
    latency_ms: float
    """How long the attempt took."""


class AllModelsFailedError(NoModelAvailableError):
    """Every model of the fallback chain failed; ``attempts`` lists each, in order."""

    code = ErrorCode.ALL_MODELS_FAILED

    def __init__(self, attempts: Sequence[FailedAttempt]) -> None:
        self.attempts = tuple(attempts)
        tried = "; ".join(
            f"{a.model} on {a.host or '-'}: {a.code} after {a.latency_ms:.0f} ms"
            for a in self.attempts
        )
        last = self.attempts[-1].message if self.attempts else "no model was available"
        RaggedGraphError.__init__(
            self,
            f"every model in the fallback chain failed ({tried or 'none tried'}). "
            f"Last error: {last}",
        )


class EvaluationDataError(RaggedGraphError, ValueError):
    """A data file (the golden set, RouteLLM data, your labelled queries) is missing or
    malformed.

    The message names the file (and line, where there is one) and what was wrong.
    """

    code = ErrorCode.EVALUATION_DATA
