"""Judging a weak/strong router on RouteLLM's real routing data.

RouteLLM (lm-sys/RouteLLM, ``routellm/evals/``) published, for GSM8K and MMLU, whether a weak
model (Mixtral-8x7B-Instruct) and a strong one (GPT-4-1106-preview) answered each question
correctly. Any function that scores a prompt (higher = needs the strong model more) can be
judged on it: :func:`evaluate_router` sweeps a threshold over the scores and reports APGR and
CPT(50%) / CPT(80%) as RouteLLM defines them (see :mod:`.routellm_metrics`).

Typical use::

    dataset = load_routellm_dataset(Path("../shared/data/routellm/gsm8k"))
    evaluations = evaluate_reference_routers(dataset)
    evaluations += (evaluate_router(dataset, my_score, "complexity score"),)
    print(render_evaluation_table(evaluations))

Trained routers are judged with :func:`cross_validate`, which never scores a prompt with a
model that saw it in training.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from pydantic import BaseModel, ConfigDict, Field

from ragged_graph.errors import EvaluationDataError
from ragged_graph.learning.routellm_metrics import (
    DEFAULT_QUANTILE_BINS,
    CurvePoint,
    ThresholdSweep,
    average_performance_gap_recovered,
    call_performance_threshold,
    routing_curve,
    sample_curve,
)

__all__ = [
    "CONTAMINATED_PROMPTS_FILE",
    "PROMPT_COLUMN",
    "STRONG_MODEL_COLUMN",
    "WEAK_MODEL_COLUMN",
    "RoutellmDataError",
    "RoutellmDataset",
    "RouterEvaluation",
    "ScoreFn",
    "TrainRouter",
    "average_evaluations",
    "cross_validate",
    "evaluate_reference_routers",
    "evaluate_router",
    "evaluate_scores",
    "evaluations_to_json",
    "load_routellm_dataset",
    "oracle_scores",
    "prompt_length_score",
    "render_evaluation_table",
    "seeded_random_scorer",
]

WEAK_MODEL_COLUMN = "mistralai/Mixtral-8x7B-Instruct-v0.1"
"""Column saying whether the weak model answered correctly."""

STRONG_MODEL_COLUMN = "gpt-4-1106-preview"
"""Column saying whether the strong model answered correctly."""

PROMPT_COLUMN = "prompt"
"""Column holding the prompt text."""

CONTAMINATED_PROMPTS_FILE = "contaminated_prompts.jsonl"
"""Per-folder list of prompts that overlap RouteLLM's router training data."""

# Response texts can be long; the csv module's default limit (128 KiB a field) is a guess, not
# a property of the data. 2**31 - 1 is the largest value every platform's C long accepts.
_CSV_FIELD_LIMIT = 2**31 - 1

_TRUE_SPELLINGS = frozenset({"true", "1", "1.0"})
_FALSE_SPELLINGS = frozenset({"false", "0", "0.0"})

# RouterEvaluation.curve holds the curve read at strong-call shares 0, 0.1, ..., 1.
_CURVE_SAMPLES = 11

ScoreFn = Callable[[str], float]
"""A router as a scoring function: prompt in, higher means it needs the strong model more."""


class RoutellmDataError(EvaluationDataError):
    """A RouteLLM data folder or file is missing or not in the expected shape."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True, kw_only=True)
class RoutellmDataset:
    """Per-prompt correctness of a weak and a strong model, ready for routing evaluation.

    The per-prompt tuples are parallel: index ``i`` of each describes the same prompt.
    """

    name: str
    """Short name of the benchmark, the folder's name: ``gsm8k`` or ``mmlu``."""

    directory: Path
    """The folder the data was read from."""

    prompts: tuple[str, ...] = field(repr=False)
    """The prompts, in file order (files in name order)."""

    weak_correct: tuple[bool, ...] = field(repr=False)
    """Whether the weak model answered each prompt correctly."""

    strong_correct: tuple[bool, ...] = field(repr=False)
    """Whether the strong model answered each prompt correctly."""

    sources: tuple[str, ...] = field(repr=False)
    """Where each prompt came from: the MMLU subject, or the benchmark name for GSM8K."""

    rows_read: int
    """Rows found in the CSV files, before contaminated prompts were left out."""

    excluded_contaminated: int
    """Rows left out because their prompt is in the folder's contaminated-prompts list."""

    def __post_init__(self) -> None:
        lengths = {
            len(self.prompts),
            len(self.weak_correct),
            len(self.strong_correct),
            len(self.sources),
        }
        if len(lengths) != 1:
            raise ValueError(
                "prompts, weak_correct, strong_correct and sources must be equally long"
            )

    def __len__(self) -> int:
        return len(self.prompts)

    @property
    def weak_accuracy(self) -> float:
        """Share of prompts the weak model answered correctly."""
        return sum(self.weak_correct) / len(self)

    @property
    def strong_accuracy(self) -> float:
        """Share of prompts the strong model answered correctly."""
        return sum(self.strong_correct) / len(self)

    def subset(self, indices: Iterable[int]) -> RoutellmDataset:
        """The prompts at ``indices``, in that order; the load-time counts are kept."""
        chosen = list(indices)
        return RoutellmDataset(
            name=self.name,
            directory=self.directory,
            prompts=tuple(self.prompts[i] for i in chosen),
            weak_correct=tuple(self.weak_correct[i] for i in chosen),
            strong_correct=tuple(self.strong_correct[i] for i in chosen),
            sources=tuple(self.sources[i] for i in chosen),
            rows_read=self.rows_read,
            excluded_contaminated=self.excluded_contaminated,
        )


TrainRouter = Callable[[RoutellmDataset], ScoreFn]
"""Trains a router on a training split and returns its scoring function."""


class RouterEvaluation(BaseModel):
    """How well one router splits one benchmark between the weak and the strong model."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    router: str = Field(min_length=1)
    """Name of the router that was judged."""

    dataset: str = Field(min_length=1)
    """Name of the benchmark, e.g. ``gsm8k``."""

    prompts: int = Field(gt=0)
    """Number of prompts the router was judged on."""

    excluded_contaminated: int = Field(ge=0)
    """Prompts left out beforehand because RouteLLM lists them as contaminated."""

    weak_accuracy: float = Field(ge=0.0, le=1.0)
    """Accuracy with every prompt sent to the weak model."""

    strong_accuracy: float = Field(ge=0.0, le=1.0)
    """Accuracy with every prompt sent to the strong model."""

    apgr: float
    """Average performance gap recovered: area under PGR over strong-call share 0 to 1.

    Random routing scores 0.5 on average; above 1 is possible when the weak model is right
    where the strong one is wrong often enough.
    """

    cpt50: float | None = Field(ge=0.0, le=1.0)
    """Smallest share of strong calls reaching PGR 0.5 (random routing needs about 0.5)."""

    cpt80: float | None = Field(ge=0.0, le=1.0)
    """Smallest share of strong calls reaching PGR 0.8 (random routing needs about 0.8)."""

    sweep: ThresholdSweep
    """How the thresholds of the curve were chosen."""

    cross_validation_folds: int | None = Field(default=None, ge=2)
    """Folds the scores were cross-validated over; None for a router that was not trained."""

    runs_averaged: int = Field(default=1, ge=1)
    """How many evaluations were averaged into this one (e.g. random routing over seeds)."""

    curve: tuple[CurvePoint, ...] = ()
    """The curve read at strong-call shares 0, 0.1, ..., 1."""


# --------------------------------------------------------------------------------------------
# Loading


def load_routellm_dataset(
    directory: Path,
    *,
    exclude_contaminated: bool = True,
    weak_column: str = WEAK_MODEL_COLUMN,
    strong_column: str = STRONG_MODEL_COLUMN,
) -> RoutellmDataset:
    """Read every ``*.csv`` in ``directory`` (e.g. ``gsm8k/`` or ``mmlu/``) into one dataset.

    Each CSV needs the columns ``prompt``, ``weak_column`` and ``strong_column`` (booleans,
    spelt ``True``/``False``); other columns are ignored. Prompts listed as ``eval_prompt``
    in the folder's ``contaminated_prompts.jsonl`` are left out, matched exactly as RouteLLM
    matches them, unless ``exclude_contaminated`` is false. A folder without that file has
    nothing to leave out.

    Raises :class:`RoutellmDataError` (a ``ValueError``) naming the file and what was expected
    when the folder, a column or a value is missing or malformed, or no prompt remains.
    """
    if not directory.is_dir():
        raise RoutellmDataError(
            directory,
            "no such folder; expected a RouteLLM data folder holding response CSVs "
            "(e.g. gsm8k/gsm8k_responses.csv or mmlu/mmlu_<subject>.csv)",
        )
    csv_files = sorted(directory.glob("*.csv"))
    if not csv_files:
        raise RoutellmDataError(
            directory,
            "no *.csv files; expected RouteLLM response CSVs such as gsm8k_responses.csv "
            "or mmlu_<subject>.csv",
        )

    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    prompts: list[str] = []
    weak_correct: list[bool] = []
    strong_correct: list[bool] = []
    sources: list[str] = []
    for csv_file in csv_files:
        source = _source_name(csv_file)
        for prompt, weak, strong in _read_response_csv(csv_file, weak_column, strong_column):
            prompts.append(prompt)
            weak_correct.append(weak)
            strong_correct.append(strong)
            sources.append(source)
    rows_read = len(prompts)

    contaminated: frozenset[str] = frozenset()
    contaminated_file = directory / CONTAMINATED_PROMPTS_FILE
    if exclude_contaminated and contaminated_file.is_file():
        contaminated = _read_contaminated_prompts(contaminated_file)
    kept = [i for i, prompt in enumerate(prompts) if prompt not in contaminated]
    if not kept:
        raise RoutellmDataError(
            directory,
            f"no prompts left to evaluate ({rows_read} rows read, "
            f"{rows_read} of them listed as contaminated)",
        )
    return RoutellmDataset(
        name=directory.resolve().name,
        directory=directory,
        prompts=tuple(prompts[i] for i in kept),
        weak_correct=tuple(weak_correct[i] for i in kept),
        strong_correct=tuple(strong_correct[i] for i in kept),
        sources=tuple(sources[i] for i in kept),
        rows_read=rows_read,
        excluded_contaminated=rows_read - len(kept),
    )


def _source_name(csv_file: Path) -> str:
    """``mmlu_anatomy.csv`` -> ``anatomy``; ``gsm8k_responses.csv`` -> ``gsm8k``."""
    stem = csv_file.stem
    stem = stem.removeprefix("mmlu_")
    return stem.removesuffix("_responses") or csv_file.stem


def _read_response_csv(
    csv_file: Path, weak_column: str, strong_column: str
) -> list[tuple[str, bool, bool]]:
    """(prompt, weak correct, strong correct) for every row of one response CSV."""
    required = (PROMPT_COLUMN, weak_column, strong_column)
    rows: list[tuple[str, bool, bool]] = []
    try:
        with csv_file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None:
                raise RoutellmDataError(
                    csv_file, f"empty file; expected a header with columns {list(required)}"
                )
            missing = [column for column in required if column not in reader.fieldnames]
            if missing:
                raise RoutellmDataError(
                    csv_file,
                    f"missing column(s) {missing}; expected {list(required)}, "
                    f"found {list(reader.fieldnames)}",
                )
            for row in reader:
                prompt = row[PROMPT_COLUMN]
                if prompt is None:
                    raise RoutellmDataError(
                        csv_file, f"line {reader.line_num}: row has no {PROMPT_COLUMN!r} value"
                    )
                weak = _parse_bool(row[weak_column], csv_file, reader.line_num, weak_column)
                strong = _parse_bool(row[strong_column], csv_file, reader.line_num, strong_column)
                rows.append((prompt, weak, strong))
    except UnicodeDecodeError as error:
        raise RoutellmDataError(csv_file, f"not valid UTF-8 ({error})") from error
    except csv.Error as error:
        raise RoutellmDataError(csv_file, f"not a readable CSV file ({error})") from error
    return rows


def _parse_bool(value: str | None, csv_file: Path, line: int, column: str) -> bool:
    normalised = (value or "").strip().lower()
    if normalised in _TRUE_SPELLINGS:
        return True
    if normalised in _FALSE_SPELLINGS:
        return False
    raise RoutellmDataError(
        csv_file,
        f"line {line}, column {column!r}: expected True or False, found {value!r}",
    )


def _read_contaminated_prompts(path: Path) -> frozenset[str]:
    """The ``eval_prompt`` of every line of a ``contaminated_prompts.jsonl`` file."""
    prompts: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise RoutellmDataError(path, f"not valid UTF-8 ({error})") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise RoutellmDataError(path, f"line {number}: not valid JSON ({error})") from error
        prompt = entry.get("eval_prompt") if isinstance(entry, dict) else None
        if not isinstance(prompt, str):
            raise RoutellmDataError(
                path, f'line {number}: expected an object with a string "eval_prompt"'
            )
        prompts.add(prompt)
    return frozenset(prompts)


# --------------------------------------------------------------------------------------------
# Evaluation


def evaluate_scores(
    dataset: RoutellmDataset,
    scores: Sequence[float],
    *,
    router: str,
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
    cross_validation_folds: int | None = None,
) -> RouterEvaluation:
    """Judge a router from its score for every prompt of ``dataset`` (same order)."""
    if len(scores) != len(dataset):
        raise ValueError(f"got {len(scores)} scores for {len(dataset)} prompts")
    curve = routing_curve(
        scores,
        dataset.weak_correct,
        dataset.strong_correct,
        sweep=sweep,
        quantile_bins=quantile_bins,
    )
    return RouterEvaluation(
        router=router,
        dataset=dataset.name,
        prompts=len(dataset),
        excluded_contaminated=dataset.excluded_contaminated,
        weak_accuracy=curve.weak_accuracy,
        strong_accuracy=curve.strong_accuracy,
        apgr=average_performance_gap_recovered(curve),
        cpt50=call_performance_threshold(curve, 0.5),
        cpt80=call_performance_threshold(curve, 0.8),
        sweep=sweep,
        cross_validation_folds=cross_validation_folds,
        curve=sample_curve(curve, _CURVE_SAMPLES),
    )


def evaluate_router(
    dataset: RoutellmDataset,
    score_fn: ScoreFn,
    name: str,
    *,
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
) -> RouterEvaluation:
    """Judge the router ``score_fn`` (prompt -> score, higher = strong) on ``dataset``."""
    scores = [float(score_fn(prompt)) for prompt in dataset.prompts]
    return evaluate_scores(dataset, scores, router=name, sweep=sweep, quantile_bins=quantile_bins)


def cross_validate(
    dataset: RoutellmDataset,
    fit: TrainRouter,
    *,
    k: int = 5,
    seed: int = 0,
    name: str | None = None,
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
) -> RouterEvaluation:
    """Judge a trained router by ``k``-fold cross-validation.

    The prompts are shuffled with ``seed`` and dealt into ``k`` folds; identical prompts
    always share a fold, so no prompt is scored by a model that saw its twin in training.
    For each fold, ``fit`` is called on the other ``k - 1`` folds and the scoring function it
    returns scores the held-out fold. The held-out scores of all folds are then pooled and
    the metrics computed once over every prompt (as scikit-learn's ``cross_val_predict``
    does), so the evaluation covers the whole dataset. Pooling assumes every fold's model
    scores on the same scale, which holds for probabilities; map unscaled scores to, say, their
    percentile among the training prompts inside ``fit``.
    """
    router_name = name or str(getattr(fit, "__name__", "trained router"))
    folds = _fold_assignment(dataset.prompts, k, seed)
    scores = [0.0] * len(dataset)
    for fold in range(k):
        held_out = [i for i, assigned in enumerate(folds) if assigned == fold]
        training = [i for i, assigned in enumerate(folds) if assigned != fold]
        score_fn = fit(dataset.subset(training))
        for index in held_out:
            scores[index] = float(score_fn(dataset.prompts[index]))
    return evaluate_scores(
        dataset,
        scores,
        router=router_name,
        sweep=sweep,
        quantile_bins=quantile_bins,
        cross_validation_folds=k,
    )


def _fold_assignment(prompts: Sequence[str], k: int, seed: int) -> list[int]:
    """The fold of each prompt: distinct prompts shuffled, then dealt out in turn."""
    distinct = list(dict.fromkeys(prompts))
    if not 2 <= k <= len(distinct):
        raise ValueError(f"k must be between 2 and {len(distinct)} (distinct prompts), got {k}")
    random.Random(seed).shuffle(distinct)
    fold_of_prompt = {prompt: position % k for position, prompt in enumerate(distinct)}
    return [fold_of_prompt[prompt] for prompt in prompts]


def average_evaluations(
    evaluations: Sequence[RouterEvaluation], *, router: str
) -> RouterEvaluation:
    """The mean of several evaluations of one kind of router on the same dataset.

    APGR, CPT50 and CPT80 are the means of the runs' values (not the metrics of a mean
    curve); the curve is averaged point by point.
    """
    if not evaluations:
        raise ValueError("nothing to average")
    first = evaluations[0]
    for other in evaluations[1:]:
        if (other.dataset, other.prompts, other.sweep, len(other.curve)) != (
            first.dataset,
            first.prompts,
            first.sweep,
            len(first.curve),
        ):
            raise ValueError("can only average evaluations of the same dataset and sweep")
    cpt50s = [e.cpt50 for e in evaluations]
    cpt80s = [e.cpt80 for e in evaluations]
    curve = tuple(
        CurvePoint(
            strong_share=points[0].strong_share,
            accuracy=fmean(p.accuracy for p in points),
            pgr=fmean(p.pgr for p in points),
        )
        for points in zip(*(e.curve for e in evaluations), strict=True)
    )
    return first.model_copy(
        update={
            "router": router,
            "apgr": fmean(e.apgr for e in evaluations),
            "cpt50": None if None in cpt50s else fmean(c for c in cpt50s if c is not None),
            "cpt80": None if None in cpt80s else fmean(c for c in cpt80s if c is not None),
            "runs_averaged": sum(e.runs_averaged for e in evaluations),
            "curve": curve,
        }
    )


# --------------------------------------------------------------------------------------------
# Reference routers


def seeded_random_scorer(seed: int = 0) -> ScoreFn:
    """A random router: a uniform score in [0, 1) drawn from a hash of seed and prompt.

    Hashing rather than a stateful generator makes the score independent of the order in
    which prompts are scored, so it is reproducible under any split or shuffle.
    """
    prefix = f"{seed}\x00".encode()

    def random_score(prompt: str) -> float:
        digest = hashlib.blake2b(prefix + prompt.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    return random_score


def prompt_length_score(prompt: str) -> float:
    """The prompt-length router: longer prompts go to the strong model first."""
    return float(len(prompt))


def oracle_scores(dataset: RoutellmDataset) -> list[float]:
    """The oracle router's scores: 1 exactly where the weak model fails and the strong succeeds.

    It needs the answers, so it is a list of scores rather than a scoring function. It is the
    upper bound no real router reaches.
    """
    return [
        1.0 if strong and not weak else 0.0
        for weak, strong in zip(dataset.weak_correct, dataset.strong_correct, strict=True)
    ]


def evaluate_reference_routers(
    dataset: RoutellmDataset,
    *,
    random_seeds: Sequence[int] = (0, 1, 2, 3, 4),
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
) -> tuple[RouterEvaluation, ...]:
    """Random (averaged over ``random_seeds``), prompt-length and oracle routers on ``dataset``.

    Their figures bracket any real router: random is the floor, oracle the ceiling.
    """
    random_runs = [
        evaluate_router(
            dataset, seeded_random_scorer(seed), "random", sweep=sweep, quantile_bins=quantile_bins
        )
        for seed in random_seeds
    ]
    return (
        average_evaluations(random_runs, router="random"),
        evaluate_router(
            dataset, prompt_length_score, "prompt length", sweep=sweep, quantile_bins=quantile_bins
        ),
        evaluate_scores(
            dataset,
            oracle_scores(dataset),
            router="oracle",
            sweep=sweep,
            quantile_bins=quantile_bins,
        ),
    )


# --------------------------------------------------------------------------------------------
# Rendering


def render_evaluation_table(evaluations: Sequence[RouterEvaluation]) -> str:
    """A plain-text table of evaluations, one row each, for terminals and logs."""
    headers = (
        "router",
        "dataset",
        "prompts",
        "excluded",
        "weak",
        "strong",
        "APGR",
        "CPT50",
        "CPT80",
    )
    rows = [
        (
            e.router,
            e.dataset,
            str(e.prompts),
            str(e.excluded_contaminated),
            f"{e.weak_accuracy:.3f}",
            f"{e.strong_accuracy:.3f}",
            f"{e.apgr:.3f}",
            "-" if e.cpt50 is None else f"{e.cpt50:.3f}",
            "-" if e.cpt80 is None else f"{e.cpt80:.3f}",
        )
        for e in evaluations
    ]
    widths = [max(len(row[column]) for row in (headers, *rows)) for column in range(len(headers))]
    # Names read left to right; figures line up on the right so decimals align.
    text_columns = 2

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if column < text_columns else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def evaluations_to_json(evaluations: Sequence[RouterEvaluation]) -> str:
    """The evaluations as a JSON array, for ``--json`` output."""
    return json.dumps([evaluation.model_dump(mode="json") for evaluation in evaluations], indent=2)
