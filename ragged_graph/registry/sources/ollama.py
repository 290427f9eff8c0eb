"""Live discovery from an Ollama server: what is installed, what is loaded, and inferred cards.

One :class:`OllamaSource` watches one host. It asks ``GET /api/tags`` (installed models),
``POST /api/show`` (details of each, cached by digest since they never change for a digest)
and ``GET /api/ps`` (loaded now), and keeps the answer for ``ttl_s`` seconds. An unreachable
server is a normal state, reported as ``reachable=False``, never an exception.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict

from ragged_graph.registry.cards import (
    LONG_CONTEXT_MIN_TOKENS,
    Capability,
    CardOrigin,
    ModelCard,
    normalise_model_name,
    tier_for_parameters,
)
from ragged_graph.registry.sources.base import ModelSource, estimate_memory_gb

__all__ = ["InstalledModel", "LoadedModel", "OllamaInventory", "OllamaSource", "infer_card"]

logger = logging.getLogger(__name__)

_GB = 1_000_000_000
# Ollama's own default context when a model's metadata names none.
_DEFAULT_CONTEXT = 4096
_VALUE = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

# What `/api/show` capability names mean for routing.
_SHOW_CAPABILITIES = {
    "completion": Capability.GENERAL,
    "tools": Capability.TOOLS,
    "vision": Capability.VISION,
    "thinking": Capability.THINKING,
    "embedding": Capability.EMBEDDING,
}
# Name fragments that reliably mark a specialised fine-tune in Ollama's library.
_NAME_SPECIALISATIONS: tuple[tuple[re.Pattern[str], Capability], ...] = (
    (re.compile(r"code|coder|starcoder|devstral", re.IGNORECASE), Capability.CODE),
    (re.compile(r"math", re.IGNORECASE), Capability.MATHS),
    (re.compile(r"-r1|qwq|reason", re.IGNORECASE), Capability.REASONING),
)
_PARAMETER_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMBT]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1e-9, "K": 1e-6, "M": 1e-3, "B": 1.0, "T": 1e3}


class InstalledModel(BaseModel):
    """A model installed on an Ollama host, as `/api/tags` and `/api/show` describe it."""

    model_config = _VALUE

    name: str
    """The tag, e.g. ``qwen2.5:7b``."""
    size_bytes: int = 0
    """Size of the weights on disk."""
    digest: str = ""
    """Content digest; details never change for one digest."""
    family: str | None = None
    """Model family, e.g. ``llama``."""
    parameter_size: str | None = None
    """Ollama's parameter size string, e.g. ``7.6B``."""
    quantisation: str | None = None
    """Quantisation level, e.g. ``Q4_K_M``."""
    context_length: int | None = None
    """Context length from ``model_info``; None if `/api/show` did not say."""
    capabilities: tuple[str, ...] = ()
    """Capabilities `/api/show` lists (completion, tools, vision, thinking, embedding)."""


class LoadedModel(BaseModel):
    """A model loaded in memory on an Ollama host now, as `/api/ps` reports it."""

    model_config = _VALUE

    name: str
    """The tag."""
    size_gb: float
    """Memory it occupies in all."""
    size_vram_gb: float
    """The part of it in GPU memory."""


class OllamaInventory(BaseModel):
    """A snapshot of one Ollama host."""

    model_config = _VALUE

    host: str
    """The host's configured name."""
    base_url: str
    """The host's base URL."""
    reachable: bool
    """Whether the server answered."""
    installed: tuple[InstalledModel, ...] = ()
    """Installed models."""
    loaded: tuple[LoadedModel, ...] = ()
    """Models loaded now."""
    error: str | None = None
    """Why the server could not be read, when it could not."""
    fetched_at: float = 0.0
    """Monotonic time of the snapshot."""


def parse_parameter_size(text: str | None) -> float | None:
    """``"7.6B"`` -> 7.6, ``"135M"`` -> 0.135 (billions); None when absent or unreadable."""
    if not text:
        return None
    match = _PARAMETER_SIZE.match(text)
    if match is None:
        return None
    return float(match.group(1)) * _SCALE[match.group(2).upper()]


def infer_card(model: InstalledModel) -> ModelCard:
    """A card for an installed model that no other source knows, from what Ollama says."""
    parameters_b = parse_parameter_size(model.parameter_size)
    capabilities = {_SHOW_CAPABILITIES[c] for c in model.capabilities if c in _SHOW_CAPABILITIES}
    if not capabilities:
        capabilities = {Capability.GENERAL}
    if Capability.THINKING in capabilities:
        capabilities.add(Capability.REASONING)
    specialisations = {cap for pattern, cap in _NAME_SPECIALISATIONS if pattern.search(model.name)}
    context = model.context_length or _DEFAULT_CONTEXT
    if context >= LONG_CONTEXT_MIN_TOKENS:
        capabilities.add(Capability.LONG_CONTEXT)
    if Capability.VISION in capabilities:
        specialisations.add(Capability.VISION)
    capabilities |= specialisations
    weights_gb = model.size_bytes / _GB
    basis = f"{model.parameter_size or 'unknown'} parameters" if parameters_b else "its size"
    return ModelCard(
        name=model.name,
        tier=tier_for_parameters(parameters_b if parameters_b else weights_gb * 2),
        parameters_b=parameters_b,
        context_window=context,
        capabilities=frozenset(capabilities),
        specialisations=frozenset(specialisations),
        quantisation=model.quantisation,
        memory_gb=estimate_memory_gb(weights_gb),
        description=f"inferred from Ollama's /api/show ({basis})",
    )


class OllamaSource(ModelSource):
    """One Ollama host: its inventory, and inferred cards for models nobody else knows."""

    origin: ClassVar[CardOrigin] = CardOrigin.INFERRED

    def __init__(
        self,
        base_url: str,
        *,
        host: str = "local",
        ttl_s: float = 30.0,
        timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.base_url = base_url.rstrip("/")
        self._ttl_s = ttl_s
        self._clock = clock
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)
        self._lock = threading.Lock()
        self._inventory: OllamaInventory | None = None
        self._details_by_digest: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self._client.close()

    def is_fresh(self) -> bool:
        """Whether :meth:`inventory` would answer from its cache now, without any request."""
        cached = self._inventory
        return cached is not None and self._clock() - cached.fetched_at < self._ttl_s

    def inventory(self, *, refresh: bool = False) -> OllamaInventory:
        """The host's inventory, fetched at most once per TTL unless ``refresh``."""
        with self._lock:
            now = self._clock()
            cached = self._inventory
            if cached is not None and not refresh and now - cached.fetched_at < self._ttl_s:
                return cached
            self._inventory = self._fetch(now)
            return self._inventory

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        inventory = self.inventory()
        return [
            infer_card(model)
            for model in inventory.installed
            if normalise_model_name(model.name) not in known
        ]

    def _fetch(self, now: float) -> OllamaInventory:
        try:
            tags = self._get_json("GET", "/api/tags")
            installed = tuple(self._installed(entry) for entry in tags.get("models", []))
            loaded = tuple(
                LoadedModel(
                    name=entry["name"],
                    size_gb=entry.get("size", 0) / _GB,
                    size_vram_gb=entry.get("size_vram", 0) / _GB,
                )
                for entry in self._get_json("GET", "/api/ps").get("models", [])
            )
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            logger.info(
                "Ollama host %s at %s is not readable: %s", self.host, self.base_url, reason
            )
            return OllamaInventory(
                host=self.host,
                base_url=self.base_url,
                reachable=False,
                error=reason,
                fetched_at=now,
            )
        return OllamaInventory(
            host=self.host,
            base_url=self.base_url,
            reachable=True,
            installed=installed,
            loaded=loaded,
            fetched_at=now,
        )

    def _installed(self, entry: Mapping[str, Any]) -> InstalledModel:
        name = entry.get("name") or entry["model"]
        details = entry.get("details") or {}
        show = self._show(name, entry.get("digest", ""))
        model_info = show.get("model_info") or {}
        architecture = model_info.get("general.architecture")
        context = model_info.get(f"{architecture}.context_length") if architecture else None
        return InstalledModel(
            name=name,
            size_bytes=int(entry.get("size", 0)),
            digest=entry.get("digest", ""),
            family=details.get("family"),
            parameter_size=details.get("parameter_size"),
            quantisation=details.get("quantization_level"),
            context_length=int(context) if isinstance(context, int | float) else None,
            capabilities=tuple(show.get("capabilities") or ()),
        )

    def _show(self, name: str, digest: str) -> dict[str, Any]:
        if digest and digest in self._details_by_digest:
            return self._details_by_digest[digest]
        try:
            details = self._get_json("POST", "/api/show", json={"model": name})
        except httpx.HTTPError as exc:
            # Tags alone still give size and parameters; the card is just less precise.
            logger.warning("Ollama /api/show failed for %s on %s: %s", name, self.host, exc)
            return {}
        if digest:
            self._details_by_digest[digest] = details
        return details

    def _get_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._client.request(method, path, **kwargs)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"{path} answered {type(data).__name__}, expected an object")
        return data
