"""What a request costs, and what it may still cost: prices, budgets and the spend ledger.

Prices are per million tokens in US dollars: a cloud model's from its card (input and output
priced apart), a local model's from ``local_cost_per_million`` (zero by default: electricity
and wear, if you want them counted), for input and output tokens alike.

Budgets cap spend per UTC day and per session. The :class:`SpendLedger` counts spend in this
process (every answered request adds its cost) on top of a baseline read from the routing
history: everything else recorded there, by earlier runs and by other processes sharing the
database, re-read every refresh (see :mod:`ragged_graph.telemetry.learned`). Before each
decision, :func:`cost_limit_for` turns the request's own ``cost_limit`` and what is left of
each budget into one limit, and says which of them binds; over budget, that limit is zero, so
only free (local) models qualify.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ragged_graph.registry.cards import ModelCard

__all__ = [
    "NO_COST_LIMIT",
    "BudgetLimits",
    "CostLimit",
    "SpendLedger",
    "cost_limit_for",
    "cost_usd",
    "is_priced",
    "prices_per_mtok",
]

_MILLION = 1_000_000


def prices_per_mtok(card: ModelCard, local_cost_per_million: float = 0.0) -> tuple[float, float]:
    """``(input, output)`` US dollars per million tokens for ``card``: a cloud card's own
    prices, ``local_cost_per_million`` for both on a local model."""
    if card.local:
        return local_cost_per_million, local_cost_per_million
    return card.input_price_per_mtok, card.output_price_per_mtok


def is_priced(card: ModelCard, local_cost_per_million: float = 0.0) -> bool:
    """Whether a call to ``card`` costs anything."""
    price_in, price_out = prices_per_mtok(card, local_cost_per_million)
    return price_in > 0 or price_out > 0


def cost_usd(
    card: ModelCard,
    *,
    input_tokens: float,
    output_tokens: float,
    local_cost_per_million: float = 0.0,
) -> float:
    """US dollars for ``input_tokens`` in and ``output_tokens`` out on ``card``."""
    price_in, price_out = prices_per_mtok(card, local_cost_per_million)
    return (max(0.0, input_tokens) * price_in + max(0.0, output_tokens) * price_out) / _MILLION


@dataclass(frozen=True, kw_only=True)
class BudgetLimits:
    """Spend caps, in US dollars; None: no cap."""

    daily_usd: float | None = None
    """Most that all requests together may spend in one UTC day."""
    per_session_usd: float | None = None
    """Most that the requests of one session may spend."""

    @property
    def any(self) -> bool:
        """Whether any cap is set."""
        return self.daily_usd is not None or self.per_session_usd is not None


@dataclass(frozen=True, kw_only=True)
class CostLimit:
    """The most one request may cost, and what set that."""

    limit_usd: float | None
    """The limit; None when nothing limits the cost."""
    source: str | None = None
    """What set it: ``cost_limit``, ``daily budget`` or ``session budget``."""
    detail: str = ""
    """A readable account, e.g. ``daily budget $5.00: $0.12 left``."""

    @property
    def over_budget(self) -> bool:
        """Whether a budget is used up (only free models may answer)."""
        return self.limit_usd is not None and self.limit_usd <= 0 and self.source != "cost_limit"


NO_COST_LIMIT = CostLimit(limit_usd=None)


class SpendLedger:
    """Spend per UTC day and per session: this process's own, counted as it happens, plus a
    baseline of everything else the history holds. Thread-safe; ``clock`` gives Unix time
    (for tests)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._own_by_day: dict[date, float] = {}
        self._own_by_session: dict[str, float] = {}
        self._own_requests: dict[str, date] = {}
        self._base_by_day: dict[date, float] = {}
        self._base_by_session: dict[str, float] = {}
        self.started_at = clock()
        """When the ledger started counting in-process spend (Unix time)."""

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock(), UTC).date()

    def add(
        self, amount_usd: float, *, session_id: str | None = None, request_id: str | None = None
    ) -> None:
        """Count ``amount_usd`` spent now by this process, in ``session_id`` if given.
        ``request_id`` (its routing record's) keeps the baseline from counting it again."""
        if amount_usd <= 0:
            return
        today = self._today()
        with self._lock:
            self._own_by_day[today] = self._own_by_day.get(today, 0.0) + amount_usd
            if session_id:
                self._own_by_session[session_id] = (
                    self._own_by_session.get(session_id, 0.0) + amount_usd
                )
            if request_id:
                self._own_requests[request_id] = today

    def own_requests(self) -> frozenset[str]:
        """Request ids of the spend this process counted itself."""
        with self._lock:
            return frozenset(self._own_requests)

    def forget_requests_before(self, day: date) -> None:
        """Drop the ids of own requests counted before ``day`` (the history is not read back
        that far any more), so that a long-running process does not keep them all."""
        with self._lock:
            self._own_requests = {
                request: counted
                for request, counted in self._own_requests.items()
                if counted >= day
            }

    def set_baseline(
        self, *, by_day: Mapping[date, float], by_session: Mapping[str, float]
    ) -> None:
        """Replace the baseline: spend the history holds apart from this process's own
        requests (earlier runs, other processes), by UTC day and by session."""
        with self._lock:
            self._base_by_day = dict(by_day)
            self._base_by_session = dict(by_session)

    def spent_today(self) -> float:
        """US dollars spent this UTC day."""
        today = self._today()
        with self._lock:
            return self._base_by_day.get(today, 0.0) + self._own_by_day.get(today, 0.0)

    def spent_in_session(self, session_id: str | None) -> float:
        """US dollars spent in ``session_id`` (0 without one)."""
        if not session_id:
            return 0.0
        with self._lock:
            return self._base_by_session.get(session_id, 0.0) + self._own_by_session.get(
                session_id, 0.0
            )


def cost_limit_for(
    request_limit_usd: float | None,
    budgets: BudgetLimits,
    ledger: SpendLedger | None,
    session_id: str | None,
) -> CostLimit:
    """The tightest of the request's ``cost_limit`` and what is left of each budget."""
    candidates: list[CostLimit] = []
    if request_limit_usd is not None:
        candidates.append(
            CostLimit(
                limit_usd=request_limit_usd,
                source="cost_limit",
                detail=f"cost limit ${request_limit_usd:.4f}",
            )
        )
    if ledger is not None and budgets.daily_usd is not None:
        candidates.append(_budget_left("daily budget", budgets.daily_usd, ledger.spent_today()))
    if ledger is not None and budgets.per_session_usd is not None and session_id:
        spent = ledger.spent_in_session(session_id)
        candidates.append(_budget_left("session budget", budgets.per_session_usd, spent))
    if not candidates:
        return NO_COST_LIMIT
    # The tightest wins; on a tie a budget (the reason to report) beats the request's limit.
    return min(candidates, key=lambda limit: (limit.limit_usd, limit.source == "cost_limit"))


def _budget_left(name: str, cap_usd: float, spent_usd: float) -> CostLimit:
    """What budget ``name`` of ``cap_usd`` leaves after ``spent_usd``, as a cost limit."""
    left = max(0.0, cap_usd - spent_usd)
    return CostLimit(
        limit_usd=left,
        source=name,
        detail=f"{name} ${cap_usd:.2f}: ${spent_usd:.4f} spent, ${left:.4f} left",
    )
