"""`ragged-graph eval ...`: judge the router on the golden set and on real routing data."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    error_console,
    load_cli_config,
    print_json,
    user_errors,
)

if TYPE_CHECKING:
    from ragged_graph.learning.routellm import RoutellmDataset, RouterEvaluation

__all__ = ["app", "golden", "routellm"]

app = typer.Typer(help="Evaluate routing quality.", no_args_is_help=True)


@app.command("golden")
def golden(
    as_json: JsonOption = False,
    show_misses: Annotated[
        bool, typer.Option("--show-misses", help="List every case the router got wrong.")
    ] = False,
    data: Annotated[
        Path | None, typer.Option("--data", help="A golden-set JSONL file (default: built in).")
    ] = None,
    annotator: Annotated[
        bool,
        typer.Option(
            "--annotator",
            help="Score the independent second annotator instead of the router, on the cases"
            " they labelled: the ceiling for the router's agreement with the labels.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Task, tier and joint accuracy per split on the golden set, with confusion matrices."""
    from ragged_graph.learning.agreement import (
        annotated_cases,
        annotator_predictor,
        load_second_opinion,
    )
    from ragged_graph.learning.golden import evaluate_golden, load_golden_set, router_predictor
    from ragged_graph.routing.router import Router

    router_config = load_cli_config(config)
    with user_errors():
        cases = load_golden_set(data)
        if annotator:
            opinions = load_second_opinion()
            labelled = annotated_cases(cases, opinions)
            report = evaluate_golden(labelled, annotator_predictor(opinions))
        else:
            report = evaluate_golden(cases, router_predictor(Router(router_config)))
    if as_json:
        print_json(report)
    else:
        typer.echo(report.render_text(show_misses=show_misses))


class RoutellmRouter(StrEnum):
    """Routers `eval routellm` can judge."""

    COMPLEXITY = "complexity"
    LEARNED = "learned"
    LENGTH = "length"
    RANDOM = "random"
    ORACLE = "oracle"


class LearnedEmbeddings(StrEnum):
    """Embeddings the learned router can be judged with."""

    MINILM = "minilm"
    HASHING = "hashing"


@app.command("routellm")
def routellm(
    data: Annotated[
        list[Path],
        typer.Option("--data", help="A RouteLLM data folder (gsm8k or mmlu); repeatable."),
    ],
    router: Annotated[
        list[RoutellmRouter] | None,
        typer.Option("--router", help="Router(s) to judge (default: complexity)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    embeddings: Annotated[
        LearnedEmbeddings,
        typer.Option(
            "--embeddings",
            help="Embeddings of the learned router: minilm (all-MiniLM-L6-v2 in-process, "
            "cached on disk) or hashing (no model).",
        ),
    ] = LearnedEmbeddings.MINILM,
    folds: Annotated[
        int, typer.Option("--folds", min=2, help="Cross-validation folds of the learned router.")
    ] = 5,
    cv_seed: Annotated[
        int,
        typer.Option(
            "--cv-seed",
            help="Seed of the learned router's fold assignment (other seeds show how much "
            "its figures owe to the split).",
        ),
    ] = 0,
    config: ConfigOption = None,
) -> None:
    """APGR, CPT(50%) and CPT(80%) of a router as a weak/strong router on RouteLLM data.

    The learned router is judged by k-fold cross-validation (--folds, --cv-seed), never
    scoring a prompt with a model trained on it.
    """
    from ragged_graph.learning.routellm import (
        average_evaluations,
        evaluate_router,
        evaluate_scores,
        evaluations_to_json,
        load_routellm_dataset,
        oracle_scores,
        prompt_length_score,
        render_evaluation_table,
        seeded_random_scorer,
    )
    from ragged_graph.routing.router import Router

    routers = router or [RoutellmRouter.COMPLEXITY]
    router_config = load_cli_config(config)
    evaluations = []
    with user_errors():
        decider = Router(router_config)

        def complexity_score(prompt: str) -> float:
            prepared = decider.prepare(prompt)
            return decider.assess(prepared, decider.classify(prepared)).score

        for folder in data:
            try:
                dataset = load_routellm_dataset(folder)
            except ValueError as exc:
                error_console.print(f"error: {exc}", markup=False, highlight=False)
                raise typer.Exit(2) from None
            for name in routers:
                if name is RoutellmRouter.COMPLEXITY:
                    evaluations.append(evaluate_router(dataset, complexity_score, name.value))
                elif name is RoutellmRouter.LEARNED:
                    evaluations.append(_learned_evaluation(dataset, embeddings, folds, cv_seed))
                elif name is RoutellmRouter.LENGTH:
                    evaluations.append(evaluate_router(dataset, prompt_length_score, name.value))
                elif name is RoutellmRouter.RANDOM:
                    runs = [
                        evaluate_router(dataset, seeded_random_scorer(seed), name.value)
                        for seed in range(5)
                    ]
                    evaluations.append(average_evaluations(runs, router=name.value))
                else:
                    evaluations.append(
                        evaluate_scores(dataset, oracle_scores(dataset), router=name.value)
                    )
    if as_json:
        typer.echo(evaluations_to_json(evaluations))
    else:
        typer.echo(render_evaluation_table(evaluations))


def _learned_evaluation(
    dataset: RoutellmDataset, kind: LearnedEmbeddings, folds: int, seed: int
) -> RouterEvaluation:
    """The learned router's cross-validated figures on ``dataset``; a missing embedding model
    is an error naming what to install."""
    from ragged_graph.learning.learned_eval import evaluate_learned_router, evaluation_embeddings

    try:
        chosen = evaluation_embeddings(kind.value)
    except ModuleNotFoundError as exc:
        error_console.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    uncached = getattr(chosen, "uncached_count", None)
    if callable(uncached):
        missing = int(uncached(dataset.prompts))
        if missing:
            error_console.print(
                f"embedding {missing} {dataset.name} prompts with {kind.value} "
                f"(roughly 20-40 a second on two cores; cached for later runs in "
                f"{getattr(chosen, 'path', 'the cache')})",
                markup=False,
                highlight=False,
            )
    return evaluate_learned_router(
        dataset, chosen, k=folds, seed=seed, name=f"learned:{kind.value}"
    )
