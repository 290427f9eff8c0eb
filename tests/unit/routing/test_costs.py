"""Prices, request costs, budgets and the spend ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ragged_graph.registry.cards import ModelCard, Tier
from ragged_graph.routing.costs import (
    BudgetLimits,
    SpendLedger,
    cost_limit_for,
    cost_usd,
    is_priced,
    prices_per_mtok,
)

CLOUD = ModelCard(
    name="gpt-4o",
    provider="openai",
    tier=Tier.QUALITY,
    context_window=128_000,
    input_price_per_mtok=2.5,
    output_price_per_mtok=10.0,
    local=False,
)
LOCAL = ModelCard(name="llama3.1:8b", tier=Tier.FAST, context_window=131_072, memory_gb=5.9)


def test_a_cloud_model_costs_its_card_prices() -> None:
    assert prices_per_mtok(CLOUD) == (2.5, 10.0)
    cost = cost_usd(CLOUD, input_tokens=1_000, output_tokens=500)
    assert cost == pytest.approx((1_000 * 2.5 + 500 * 10.0) / 1e6)


def test_a_local_model_is_free_unless_configured() -> None:
    assert not is_priced(LOCAL)
    assert cost_usd(LOCAL, input_tokens=10_000, output_tokens=10_000) == 0
    assert is_priced(LOCAL, 0.05)
    assert cost_usd(
        LOCAL, input_tokens=1_000_000, output_tokens=1_000_000, local_cost_per_million=0.05
    ) == pytest.approx(0.10)


class Clock:
    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now


def test_the_ledger_counts_per_day_and_per_session() -> None:
    clock = Clock(datetime(2026, 3, 1, 23, 0, tzinfo=UTC))
    ledger = SpendLedger(clock=clock)
    ledger.add(0.5, session_id="a")
    ledger.add(0.25, session_id="b")
    ledger.add(0.0, session_id="a")
    assert ledger.spent_today() == pytest.approx(0.75)
    assert ledger.spent_in_session("a") == pytest.approx(0.5)
    assert ledger.spent_in_session(None) == 0
    clock.now += 2 * 3600  # past midnight UTC: a new day, the same sessions
    assert ledger.spent_today() == 0
    assert ledger.spent_in_session("a") == pytest.approx(0.5)


def test_the_ledger_adds_a_baseline_from_the_history_and_replaces_it_on_each_reading() -> None:
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ledger = SpendLedger(clock=clock)
    ledger.set_baseline(
        by_day={date(2026, 3, 1): 1.0, date(2026, 2, 28): 9.0}, by_session={"a": 0.3}
    )
    ledger.add(0.2, session_id="a", request_id="r1")
    assert ledger.spent_today() == pytest.approx(1.2)
    assert ledger.spent_in_session("a") == pytest.approx(0.5)
    ledger.set_baseline(by_day={date(2026, 3, 1): 2.0}, by_session={})
    assert ledger.spent_today() == pytest.approx(2.2)
    assert ledger.spent_in_session("a") == pytest.approx(0.2)
    assert ledger.own_requests() == {"r1"}
    ledger.forget_requests_before(date(2026, 3, 1))
    assert ledger.own_requests() == {"r1"}
    ledger.forget_requests_before(date(2026, 3, 2))
    assert ledger.own_requests() == frozenset()


def test_without_limits_or_budgets_nothing_limits_the_cost() -> None:
    assert cost_limit_for(None, BudgetLimits(), SpendLedger(), "s").limit_usd is None


def test_the_tightest_limit_wins_and_says_what_set_it() -> None:
    ledger = SpendLedger()
    ledger.add(4.9, session_id="s")
    budgets = BudgetLimits(daily_usd=5.0, per_session_usd=10.0)
    limit = cost_limit_for(1.0, budgets, ledger, "s")
    assert limit.limit_usd == pytest.approx(0.1)
    assert limit.source == "daily budget"
    assert "daily budget $5.00" in limit.detail
    assert not limit.over_budget
    assert cost_limit_for(0.01, budgets, ledger, "s").source == "cost_limit"


def test_a_spent_budget_leaves_a_zero_limit_marked_over_budget() -> None:
    ledger = SpendLedger()
    ledger.add(0.6, session_id="s")
    limit = cost_limit_for(None, BudgetLimits(per_session_usd=0.5), ledger, "s")
    assert limit.limit_usd == 0
    assert limit.source == "session budget"
    assert limit.over_budget
    # Another session has its own budget.
    assert cost_limit_for(None, BudgetLimits(per_session_usd=0.5), ledger, "t").limit_usd == 0.5
    # A session budget needs a session.
    assert cost_limit_for(None, BudgetLimits(per_session_usd=0.5), ledger, None).limit_usd is None
