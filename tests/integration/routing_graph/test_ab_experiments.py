"""A/B experiments through the routing graph and `RaggedRouter`, against the Ollama test
server: each session key gets its variant's model, every time, and the variant is in the
answer's routing metadata, the routing history and the LangSmith trace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.experiments.assignment import assign
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, Services, build_graph
from ragged_graph.telemetry import RoutingRecord
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import LangSmithReceiver, OllamaServer

pytestmark = pytest.mark.integration

EXPERIMENT = "model-choice"
MODELS = {"small": "llama3.2:3b", "medium": "qwen2.5:7b"}
QUESTION = "What is the capital of France?"


def config_for(server: OllamaServer, tmp_path: Path, **experiment: Any) -> RouterConfig:
    variants = experiment.pop(
        "variants", {name: {"model": model} for name, model in MODELS.items()}
    )
    return RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "t", "base_url": server.base_url}]},
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None},
            "history": {"url": f"sqlite:///{tmp_path / 'history.sqlite3'}", "flush_interval_s": 0},
            "models": experiment.pop("models", []),
            "experiments": {EXPERIMENT: {"variants": variants, **experiment}},
        }
    )


def remote_variant_config(server: OllamaServer, tmp_path: Path) -> RouterConfig:
    """Variant ``medium`` names the host's 14b, said to be someone else's machine: not local."""
    return config_for(
        server,
        tmp_path,
        variants={"small": {}, "medium": {"model": "qwen2.5:14b"}},
        models=[{"name": "qwen2.5:14b", "local": False}],
    )


def keys_per_variant(config: RouterConfig) -> dict[str, str]:
    """A session key that lands in each variant."""
    settings = config.experiments[EXPERIMENT]
    found: dict[str, str] = {}
    for i in range(1000):
        assignment = assign(EXPERIMENT, settings, session_id=f"session-{i}", request_id="-")
        assert assignment is not None
        found.setdefault(assignment.variant, f"session-{i}")
        if len(found) == len(settings.variants):
            return found
    raise AssertionError("no key for some variant")


def graph_over(config: RouterConfig) -> tuple[Any, Services]:
    """The routing graph run directly (no RaggedRouter) over ``config``, and its services."""
    services = Services.for_router(Router(config))
    return build_graph(lambda _context: services), services


def history(router: RaggedRouter) -> list[RoutingRecord]:
    router.close()
    store = HistoryStore(router.router.config.history.url)
    try:
        return store.records()
    finally:
        store.close()


def test_each_session_gets_its_variants_model_every_time(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(ollama_server, tmp_path)
    keys = keys_per_variant(config)
    router = RaggedRouter(config=config)
    for _ in range(3):
        for variant, key in keys.items():
            ollama_server.clear_requests()
            answer = router.invoke(QUESTION, config={"metadata": {"session_id": key}})
            routing = answer.response_metadata["routing"]
            assert (routing["experiment"], routing["variant"]) == (EXPERIMENT, variant)
            assert routing["model"] == MODELS[variant]
            assert [r.model for r in ollama_server.chat_requests()] == [MODELS[variant]]

    records = history(router)
    assert len(records) == 6
    for record in records:
        assert record.ab_experiment == EXPERIMENT
        assert record.ab_variant is not None
        assert record.session_id == keys[record.ab_variant]
        assert record.model == record.answered_by == MODELS[record.ab_variant]


def test_the_graph_run_directly_takes_the_session_from_its_configurable(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(ollama_server, tmp_path)
    graph, services = graph_over(config)
    for variant, key in keys_per_variant(config).items():
        out = graph.invoke({"query": QUESTION}, config={"configurable": {"thread_id": key}})
        assert out["experiment"] == {
            "name": EXPERIMENT,
            "variant": variant,
            "assigned_by": "session",
            "overrides": {"model": MODELS[variant]},
        }
        assert out["decision"]["model"] == MODELS[variant]
        assert out["decision"]["reason"].startswith(f"explicit model {MODELS[variant]}")
    services.close()


def test_assignment_by_user_from_the_router_or_the_call(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(ollama_server, tmp_path, assign_by="user")
    settings = config.experiments[EXPERIMENT]
    expected = assign(EXPERIMENT, settings, user_id="alice", request_id="-")
    assert expected is not None
    router = RaggedRouter(config=config, user_id="alice")
    for session in ("s1", "s2", "s3"):
        routing = router.invoke(QUESTION, config={"metadata": {"session_id": session}})
        assert routing.response_metadata["routing"]["variant"] == expected.variant
    bob = assign(EXPERIMENT, settings, user_id="bob", request_id="-")
    assert bob is not None
    answer = router.invoke(QUESTION, config={"configurable": {"user_id": "bob"}})
    assert answer.response_metadata["routing"]["variant"] == bob.variant
    assert answer.response_metadata["routing"]["model"] == MODELS[bob.variant]


def test_without_a_key_each_request_is_assigned_by_its_own_id(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, tmp_path))
    for _ in range(12):
        router.invoke(QUESTION)
    records = history(router)
    assert {record.ab_variant for record in records} == set(MODELS)  # 2**-11 to fail by luck
    for record in records:
        assert record.model == MODELS[record.ab_variant or ""]

    skipping = RaggedRouter(config=config_for(ollama_server, tmp_path / "skip", unkeyed="skip"))
    answer = skipping.invoke(QUESTION)
    assert "experiment" not in answer.response_metadata["routing"]
    [record] = history(skipping)
    assert (record.ab_experiment, record.ab_variant) == (None, None)


def test_a_graph_run_without_any_id_is_assigned_and_recorded_under_one_request_id(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(ollama_server, tmp_path)
    graph, services = graph_over(config)
    for _ in range(12):
        graph.invoke({"query": QUESTION})
    services.close()
    store = HistoryStore(config.history.url)
    try:
        records = store.records()
    finally:
        store.close()
    assert len(records) == 12
    settings = config.experiments[EXPERIMENT]
    for record in records:
        # Assigned by the id the record is kept under, not a second random one
        # (each record would match by luck with probability 1/2).
        again = assign(EXPERIMENT, settings, request_id=record.request_id)
        assert again is not None
        assert record.ab_variant == again.variant


def test_a_variants_tier_persona_and_optimise_steer_the_decision(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(
        ollama_server,
        tmp_path,
        variants={
            "small": {"tier": "fast"},
            "medium": {"tier": "quality", "persona": "writer", "optimise": "cost"},
        },
    )
    graph, services = graph_over(config)
    keys = keys_per_variant(config)
    fast = graph.invoke({"query": QUESTION}, config={"configurable": {"session_id": keys["small"]}})
    assert fast["decision"]["tier"] == "fast"
    assert fast["decision"]["persona"] is None
    quality = graph.invoke(
        {"query": QUESTION}, config={"configurable": {"session_id": keys["medium"]}}
    )
    assert quality["decision"]["tier"] == "quality"
    assert quality["decision"]["persona"] == "writer"
    assert quality["decision"]["optimise"] == "cost"
    assert fast["decision"]["optimise"] == "quality"
    assert quality["decision"]["reason"].startswith("tier forced to quality")
    services.close()


def test_requests_that_set_what_the_variants_change_stay_out(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = config_for(ollama_server, tmp_path)
    key = keys_per_variant(config)["small"]
    router = RaggedRouter(config=config, model="gemma3:4b")
    answer = router.invoke(QUESTION, config={"metadata": {"session_id": key}})
    routing = answer.response_metadata["routing"]
    assert "experiment" not in routing
    assert routing["model"] == "gemma3:4b"
    [record] = history(router)
    assert record.ab_variant is None


def test_a_local_only_request_never_goes_to_a_variants_remote_model(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = remote_variant_config(ollama_server, tmp_path)
    graph, services = graph_over(config)
    key = keys_per_variant(config)["medium"]
    out = graph.invoke(
        {"query": QUESTION},
        config={"configurable": {"session_id": key}},
        context=Context(persona="private"),
    )
    assert out["experiment"] is None
    assert out["decision"]["model"] != "qwen2.5:14b"
    public = graph.invoke({"query": QUESTION}, config={"configurable": {"session_id": key}})
    assert public["experiment"]["variant"] == "medium"
    assert public["decision"]["model"] == "qwen2.5:14b"
    services.close()


def test_the_variant_is_on_the_trace(
    ollama_server: OllamaServer, tmp_path: Path, langsmith_receiver: LangSmithReceiver
) -> None:
    config = config_for(ollama_server, tmp_path)
    keys = keys_per_variant(config)
    router = RaggedRouter(config=config)
    router.invoke(QUESTION, config={"metadata": {"session_id": keys["medium"]}})
    wait_for_all_tracers()
    [root] = langsmith_receiver.roots()
    [graph_run] = langsmith_receiver.runs("ragged_graph")
    for run in (root, graph_run):
        assert f"ab:{EXPERIMENT}=medium" in (run.tags or [])
        assert run.metadata["routing_experiment"] == EXPERIMENT
        assert run.metadata["routing_variant"] == "medium"
    router.close()


async def test_async_runs_assign_the_same_way(ollama_server: OllamaServer, tmp_path: Path) -> None:
    config = remote_variant_config(ollama_server, tmp_path)
    graph, services = graph_over(config)
    key = keys_per_variant(config)["medium"]
    public = await graph.ainvoke({"query": QUESTION}, config={"configurable": {"session_id": key}})
    assert public["experiment"]["variant"] == "medium"
    assert public["decision"]["model"] == "qwen2.5:14b"
    # Local-only: the registry is read (in a thread) and the remote variant keeps it out.
    private = await graph.ainvoke(
        {"query": QUESTION},
        config={"configurable": {"session_id": key}},
        context=Context(local_only=True),
    )
    assert private["experiment"] is None
    assert private["decision"]["model"] != "qwen2.5:14b"
    services.close()
