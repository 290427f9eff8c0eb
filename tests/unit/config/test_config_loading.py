from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.config import (
    CONFIG_ENV_VAR,
    DEFAULT_OLLAMA_URL,
    RouterConfig,
    load_config,
    ollama_url_from_env,
)
from ragged_graph.errors import ConfigError, ErrorCode
from ragged_graph.registry.cards import Tier


def write(tmp_path: Path, text: str, name: str = "router.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        RouterConfig.from_file(path)
    return caught.value


def test_defaults_without_path_or_env_var() -> None:
    config = load_config(environ={})
    assert config.tiers.fast_below == 3.5
    assert config.tiers.balanced_below == 7.0
    assert config.fallbacks.max_chain_length == 3
    assert config.source is None


def test_env_var_names_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "fallbacks:\n  max_chain_length: 5\n")
    config = load_config(environ={CONFIG_ENV_VAR: str(path)})
    assert config.fallbacks.max_chain_length == 5
    assert config.source == str(path)


def test_explicit_path_wins_over_env_var(tmp_path: Path) -> None:
    explicit = write(tmp_path, "fallbacks:\n  max_chain_length: 2\n", "a.yaml")
    from_env = write(tmp_path, "fallbacks:\n  max_chain_length: 7\n", "b.yaml")
    config = load_config(explicit, environ={CONFIG_ENV_VAR: str(from_env)})
    assert config.fallbacks.max_chain_length == 2


def test_toml_files_load_too(tmp_path: Path) -> None:
    path = write(tmp_path, "[tiers]\nfast_below = 3.0\nbalanced_below = 6.5\n", "router.toml")
    config = RouterConfig.from_file(path)
    assert config.tiers.fast_below == 3.0


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert RouterConfig.from_file(write(tmp_path, "")).model_dump() == RouterConfig().model_dump()


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tiers:\n  fast_below: [1, 2\nother: x\n")
    error = error_for(path)
    assert error.code is ErrorCode.INVALID_CONFIG
    assert str(path) in str(error)
    assert "malformed YAML at line" in str(error)
    assert isinstance(error, ValueError)


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "fallbacks:\n  max_chain_lenght: 3\n"))
    assert [issue.key for issue in error.issues] == ["fallbacks.max_chain_lenght"]
    assert "unknown key" in str(error)


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "fallbacks:\n  max_chain_length: lots\n"))
    assert error.issues[0].key == "fallbacks.max_chain_length"
    assert "integer" in error.issues[0].problem
    assert "'lots'" in error.issues[0].problem


def test_negative_memory_is_rejected(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "hardware:\n  memory_gb: -4\n"))
    assert error.issues[0].key == "hardware.memory_gb"
    assert "greater than or equal to 0" in error.issues[0].problem


def test_negative_model_memory_is_rejected(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "models:\n  - name: mine:7b\n    memory_gb: -1\n"))
    assert error.issues[0].key == "models.0.memory_gb"


def test_unknown_tier_name_lists_the_valid_ones(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "models:\n  - name: mine:7b\n    tier: turbo\n"))
    assert error.issues[0].key == "models.0.tier"
    for tier in Tier:
        assert tier.value in error.issues[0].problem


def test_model_card_missing_its_name(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "models:\n  - tier: fast\n    context_window: 8192\n"))
    assert error.issues[0].key == "models.0.name"
    assert "required" in error.issues[0].problem.lower()


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    text = "tiers:\n  fast_below: 8\n  balanced_below: 4\nbogus: 1\nhardware:\n  memory_gb: -1\n"
    error = error_for(write(tmp_path, text))
    keys = {issue.key for issue in error.issues}
    assert {"bogus", "hardware.memory_gb"} <= keys
    assert len(error.issues) >= 3


def test_top_level_list_is_not_a_config(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "- a\n- b\n"))
    assert "expected a mapping" in str(error)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    error = error_for(tmp_path / "nope.yaml")
    assert "file not found" in str(error)


def test_invalid_task_pattern_is_reported(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "tasks:\n  legal:\n    - '(unclosed'\n"))
    assert error.issues[0].key == "tasks"
    assert "legal" in error.issues[0].problem


def test_duplicate_host_names_are_rejected(tmp_path: Path) -> None:
    text = (
        "providers:\n  ollama:\n    hosts:\n"
        "      - {name: a, base_url: 'http://127.0.0.1:1'}\n"
        "      - {name: a, base_url: 'http://127.0.0.1:2'}\n"
    )
    error = error_for(write(tmp_path, text))
    assert error.issues[0].key == "providers.ollama.hosts"


def test_host_url_must_be_http(tmp_path: Path) -> None:
    text = "providers:\n  ollama:\n    hosts:\n      - {name: a, base_url: 'ftp://x'}\n"
    error = error_for(write(tmp_path, text))
    assert error.issues[0].key == "providers.ollama.hosts.0.base_url"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", DEFAULT_OLLAMA_URL),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("gpu-box:11500", "http://gpu-box:11500"),
        ("http://10.1.2.3", "http://10.1.2.3:11434"),
        ("https://ollama.example.org/", "https://ollama.example.org:443"),
    ],
)
def test_ollama_host_env_var_is_understood(value: str, expected: str) -> None:
    assert ollama_url_from_env({"OLLAMA_HOST": value}) == expected


def test_default_host_follows_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9999")
    assert RouterConfig().providers.ollama.hosts[0].base_url == "http://127.0.0.1:9999"
