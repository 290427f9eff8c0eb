"""The ensemble policy and the fleet's host settings in a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ConfigError
from ragged_graph.registry.cards import Tier


def test_an_ensemble_policy_and_labelled_hosts_load_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(
        "ensemble:\n"
        "  enabled: true\n"
        "  personas: [researcher]\n"
        "  tiers: [quality]\n"
        "  min_complexity: 6.5\n"
        "  rewrite: false\n"
        "providers:\n"
        "  ollama:\n"
        "    latency_window_s: 120\n"
        "    hosts:\n"
        "      - {name: gpu, base_url: 'http://10.0.0.2:11434', labels: [gpu, office]}\n"
        "      - {name: laptop, base_url: 'http://127.0.0.1:11434'}\n",
        encoding="utf-8",
    )
    config = RouterConfig.from_file(path)
    policy = config.ensemble
    assert policy.enabled
    assert (policy.personas, policy.tiers, policy.min_complexity) == (
        ("researcher",),
        (Tier.QUALITY,),
        6.5,
    )
    assert (policy.rewrite, policy.escalate) == (False, True)
    ollama = config.providers.ollama
    assert ollama.latency_window_s == 120
    assert [(host.name, host.labels) for host in ollama.hosts] == [
        ("gpu", ("gpu", "office")),
        ("laptop", ()),
    ]


def test_the_ensemble_is_off_by_default() -> None:
    assert not RouterConfig().ensemble.enabled


@pytest.mark.parametrize(
    ("ensemble", "key"),
    [
        ({"tiers": ["ultra"]}, "ensemble.tiers.0"),
        ({"min_complexity": 11}, "ensemble.min_complexity"),
        ({"mode": "always"}, "ensemble.mode"),
    ],
)
def test_a_bad_ensemble_setting_names_its_key(ensemble: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RouterConfig.from_mapping({"ensemble": ensemble})
    assert [issue.key for issue in caught.value.issues] == [key]


def test_a_latency_window_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"providers\.ollama\.latency_window_s"):
        RouterConfig.from_mapping({"providers": {"ollama": {"latency_window_s": 0}}})
