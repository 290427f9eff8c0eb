"""`cloud:`, `budgets:`, `local_cost_per_million` and `latency:` in the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig, load_config
from ragged_graph.errors import ConfigError
from ragged_graph.registry.cards import Tier


def test_defaults_keep_everything_local_and_free() -> None:
    config = RouterConfig()
    assert not config.cloud.enabled
    assert config.cloud.models == ()
    assert config.budgets.daily is None
    assert config.budgets.per_session is None
    assert config.local_cost_per_million == 0
    assert config.latency.cold_load_s_per_gb == 0.5


def test_a_config_file_declares_cloud_models_with_prices(tmp_path: Path) -> None:
    file = tmp_path / "router.yaml"
    file.write_text(
        """
cloud:
  enabled: true
  providers:
    openai: {base_url: "http://127.0.0.1:8000/v1", api_key_env: MY_KEY}
  models:
    - {name: gpt-4o-mini, provider: openai, tier: balanced,
       input_price_per_mtok: 0.15, output_price_per_mtok: 0.6}
    - {name: claude-sonnet-4-5, provider: anthropic,
       input_price_per_mtok: 3, output_price_per_mtok: 15}
budgets: {daily: 5, per_session: 0.5, currency: USD}
local_cost_per_million: 0.02
latency: {cold_load_s_per_gb: 0.8, refresh_s: 30}
""",
        encoding="utf-8",
    )
    config = load_config(file)
    mini, claude = config.cloud.models
    assert mini.tier is Tier.BALANCED
    assert claude.tier is Tier.QUALITY
    assert config.cloud.providers.openai.api_key_env == "MY_KEY"
    assert config.budgets.daily == 5
    assert config.local_cost_per_million == 0.02
    assert config.latency.cold_load_s_per_gb == 0.8


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {
                "cloud": {
                    "models": [
                        {
                            "name": "x",
                            "provider": "mistral",
                            "input_price_per_mtok": 1,
                            "output_price_per_mtok": 1,
                        }
                    ]
                }
            },
            "cloud.models.0.provider",
        ),
        (
            {"cloud": {"models": [{"name": "x", "provider": "openai"}]}},
            "cloud.models.0.input_price_per_mtok",
        ),
        ({"budgets": {"daily": -1}}, "budgets.daily"),
        ({"budgets": {"currency": "EUR"}}, "budgets.currency"),
        ({"local_cost_per_million": -0.1}, "local_cost_per_million"),
        ({"latency": {"smoothing": 0}}, "latency.smoothing"),
    ],
)
def test_mistakes_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RouterConfig.from_mapping(data, source="router.yaml")
    assert key in [issue.key for issue in caught.value.issues]


def test_a_cloud_model_may_be_listed_once() -> None:
    model = {
        "name": "gpt-4o",
        "provider": "openai",
        "input_price_per_mtok": 1,
        "output_price_per_mtok": 1,
    }
    with pytest.raises(ConfigError, match="repeated: gpt-4o"):
        RouterConfig.from_mapping({"cloud": {"models": [model, model]}})
