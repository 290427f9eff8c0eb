"""The model registry: cards merged from every source, with live availability and fit.

Sources are merged in this order, later ones winning for a model they both name:

1. built-in cards (:mod:`ragged_graph.registry.sources.builtin`), the embedded model's
   when it can run here (:mod:`ragged_graph.registry.sources.embedded`), and the cloud
   models of ``cloud:`` when enabled (:mod:`ragged_graph.registry.sources.cloud`);
2. inferred cards for models installed on an Ollama host that step 1 does not know;
3. the user's config file, which may override any field of any card or add new ones.

A model *fits* when its card's memory need is within the memory budget, or when a host has
it loaded already (it evidently runs there). When no Ollama host answers, availability is
unknown: every card counts as a candidate and :attr:`RegistrySnapshot.availability_known`
is False, so a decision can say it was made on assumed availability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ragged_graph.errors import UnknownModelError
from ragged_graph.registry.cards import CardOrigin, ModelCard, normalise_model_name
from ragged_graph.registry.hardware import MemoryBudget
from ragged_graph.registry.sources.base import ModelSource
from ragged_graph.registry.sources.builtin import BuiltinSource
from ragged_graph.registry.sources.cloud import CloudSource
from ragged_graph.registry.sources.config_file import ConfigFileSource
from ragged_graph.registry.sources.embedded import EmbeddedSource
from ragged_graph.registry.sources.ollama import OllamaInventory, OllamaSource

if TYPE_CHECKING:
    import httpx

    from ragged_graph.config import RouterConfig

__all__ = ["ModelRegistry", "RegistryEntry", "RegistrySnapshot"]

_VALUE = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class RegistryEntry(BaseModel):
    """One model as the registry sees it now."""

    model_config = _VALUE

    card: ModelCard
    """The merged card."""
    origin: CardOrigin
    """The source whose card won."""
    installed_on: tuple[str, ...] = ()
    """Names of the Ollama hosts that have it installed."""
    loaded_on: tuple[str, ...] = ()
    """Names of the Ollama hosts that have it loaded in memory now."""
    fits: bool
    """Whether it fits the memory budget (or is loaded already)."""

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def installed(self) -> bool:
        # Only Ollama models are installed per host; other providers are reachable or not.
        return bool(self.installed_on) or self.card.provider != "ollama"

    @property
    def loaded(self) -> bool:
        return bool(self.loaded_on)


class RegistrySnapshot(BaseModel):
    """Every known model at one moment, with whether availability could be checked."""

    model_config = _VALUE

    entries: tuple[RegistryEntry, ...]
    """Every known model, sorted by tier then name."""
    availability_known: bool
    """False when no Ollama host answered: installed/loaded state is then unknown."""
    budget: MemoryBudget
    """The memory budget models were checked against."""
    hosts: tuple[OllamaInventory, ...] = ()
    """The inventory of each configured Ollama host."""
    candidates: tuple[RegistryEntry, ...] = ()
    """Models a request may go to: installed (or assumed so while availability is unknown)
    and fitting the budget, in the order of ``entries``."""


class ModelRegistry:
    """Merges model sources and live hosts into one view of what can be routed to."""

    def __init__(
        self,
        *,
        budget: MemoryBudget,
        static_sources: Sequence[ModelSource] = (),
        hosts: Sequence[OllamaSource] = (),
        overrides: ModelSource | None = None,
    ) -> None:
        self._budget = budget
        self._static_sources = tuple(static_sources) or (BuiltinSource(),)
        self._hosts = tuple(hosts)
        self._overrides = overrides
        self._cache_key: tuple[OllamaInventory, ...] | None = None
        self._snapshot: RegistrySnapshot | None = None

    @classmethod
    def from_config(
        cls,
        config: RouterConfig,
        *,
        budget: MemoryBudget,
        transport: httpx.BaseTransport | None = None,
    ) -> ModelRegistry:
        """The registry a config describes: built-ins and the embedded model (when it can run
        here), its Ollama hosts, its model overrides."""
        ollama = config.providers.ollama
        hosts = [
            OllamaSource(
                host.base_url,
                host=host.name,
                ttl_s=ollama.discovery_ttl_s,
                timeout_s=ollama.discovery_timeout_s,
                transport=transport,
            )
            for host in ollama.hosts
        ]
        overrides = ConfigFileSource(config.models, source=config.source) if config.models else None
        static = (
            BuiltinSource(),
            EmbeddedSource(config.providers.embedded),
            CloudSource(config.cloud),
        )
        return cls(budget=budget, static_sources=static, hosts=hosts, overrides=overrides)

    @property
    def budget(self) -> MemoryBudget:
        return self._budget

    def close(self) -> None:
        for host in self._hosts:
            host.close()

    def is_fresh(self) -> bool:
        """Whether :meth:`snapshot` can answer now without asking any host: every host's
        inventory was fetched within its time to live, so it does no blocking I/O."""
        return all(host.is_fresh() for host in self._hosts)

    def snapshot(self, *, refresh: bool = False) -> RegistrySnapshot:
        """The registry now; rebuilt only when a host's inventory changed."""
        inventories = tuple(host.inventory(refresh=refresh) for host in self._hosts)
        if self._snapshot is not None and inventories == self._cache_key:
            return self._snapshot
        self._snapshot = self._build(inventories)
        self._cache_key = inventories
        return self._snapshot

    def cards_known_now(self) -> dict[str, ModelCard]:
        """The cards known without asking any host, by name: the last snapshot's, else the
        built-in, cloud and config-file ones. For background work, which must not poll the
        hosts on its own (a router nobody uses would ask them every minute)."""
        snapshot = self._snapshot
        if snapshot is not None:
            return {entry.card.name: entry.card for entry in snapshot.entries}
        cards, _ = self._merged_cards(include_hosts=False)
        return {card.name: card for card in cards.values()}

    def get(self, name: str) -> RegistryEntry:
        """The entry for ``name`` (``llama3.1`` means ``llama3.1:latest``)."""
        snapshot = self.snapshot()
        wanted = normalise_model_name(name)
        for entry in snapshot.entries:
            if entry.card.key == wanted or entry.card.name == name:
                return entry
        raise UnknownModelError(name, [entry.name for entry in snapshot.entries])

    def _merged_cards(
        self, *, include_hosts: bool
    ) -> tuple[dict[str, ModelCard], dict[str, CardOrigin]]:
        """The sources' cards by key, later sources over earlier ones (static, then the hosts
        unless left out, then the config file), and where each came from."""
        cards: dict[str, ModelCard] = {}
        origins: dict[str, CardOrigin] = {}
        hosts: Sequence[ModelSource] = self._hosts if include_hosts else ()
        overrides = (self._overrides,) if self._overrides is not None else ()
        for source in (*self._static_sources, *hosts, *overrides):
            for card in source.cards(dict(cards)):
                cards[card.key] = card
                origins[card.key] = source.origin
        return cards, origins

    def _build(self, inventories: tuple[OllamaInventory, ...]) -> RegistrySnapshot:
        cards, origins = self._merged_cards(include_hosts=True)
        installed_on: dict[str, list[str]] = {}
        loaded_on: dict[str, list[str]] = {}
        for inventory in inventories:
            for model in inventory.installed:
                installed_on.setdefault(normalise_model_name(model.name), []).append(inventory.host)
            for loaded in inventory.loaded:
                loaded_on.setdefault(normalise_model_name(loaded.name), []).append(inventory.host)

        entries = []
        for key, card in cards.items():
            loaded_hosts = tuple(loaded_on.get(key, ()))
            entries.append(
                RegistryEntry(
                    card=card,
                    origin=origins[key],
                    installed_on=tuple(installed_on.get(key, ())),
                    loaded_on=loaded_hosts,
                    fits=bool(loaded_hosts) or self._budget.fits(card.memory_gb),
                )
            )
        entries.sort(key=lambda entry: (entry.card.tier.rank, entry.card.name))
        availability_known = any(inventory.reachable for inventory in inventories)
        return RegistrySnapshot(
            entries=tuple(entries),
            candidates=tuple(
                entry
                for entry in entries
                if entry.fits and (entry.installed or not availability_known)
            ),
            availability_known=availability_known,
            budget=self._budget,
            hosts=inventories,
        )
