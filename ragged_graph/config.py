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
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from ragged_graph.errors import ConfigError, ConfigIssue
from ragged_graph.registry.cards import ModelCardSpec
from ragged_graph.registry.hardware import HardwareOverride
from ragged_graph.routing.complexity import TierThresholds
from ragged_graph.routing.personas import Persona

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_OLLAMA_URL",
    "FallbackSettings",
    "OllamaHostConfig",
    "OllamaProviderConfig",
    "ProvidersConfig",
    "RouterConfig",
    "default_health_file",
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


class ProvidersConfig(BaseModel):
    """Settings per model provider."""

    model_config = _STRICT

    ollama: OllamaProviderConfig = Field(default_factory=OllamaProviderConfig)
    """The Ollama provider."""


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
