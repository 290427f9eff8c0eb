"""Train the learned task model shipped in ``ragged_graph/routing/data/task_model.json``.

What and on which data: see :mod:`ragged_graph.learning.task_model_training` (the golden
set's tune split and the task corpus; never the golden holdout).

How to run (from the repository root; about half a minute; needs the ``learned`` extra)::

    /work/venv/bin/python scripts/train_task_model.py            # check only
    /work/venv/bin/python scripts/train_task_model.py --write    # and write the model

What it prints
    1. Leave-one-writer-out over the task corpus: for each of its four writers, task accuracy
       of the cue tables alone and of cues with a model trained on everything but that
       writer, and the totals.
    2. Task accuracy on the chat turns (evaluation only), cues alone and with the shipped model.
    3. The model trained on all of the data: its size, and whether it equals the shipped file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ragged_graph.learning.golden import load_golden_set
from ragged_graph.learning.task_model_training import (
    DEFAULT_MIN_DF,
    DEFAULT_REGULARISATION,
    cross_validate_by_writer,
    default_training_examples,
    load_chat_turns,
    load_task_corpus,
    render_by_writer,
    train_task_model,
)
from ragged_graph.routing.classifier import TaskClassification, TaskClassifier
from ragged_graph.routing.query_text import PreparedQuery, prepare_query
from ragged_graph.routing.task_model import TASK_MODEL_FILE, TaskModel, default_task_model

SHIPPED = (
    Path(__file__).resolve().parents[1] / "ragged_graph" / "routing" / "data" / "task_model.json"
)


def classify(prepared: PreparedQuery, model: TaskModel | None) -> TaskClassification:
    return TaskClassifier(task_model=model).classify(prepared)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="write the model to the package")
    parser.add_argument("--regularisation", type=float, default=DEFAULT_REGULARISATION)
    parser.add_argument("--min-df", type=int, default=DEFAULT_MIN_DF)
    args = parser.parse_args()

    scores = cross_validate_by_writer(
        load_golden_set(),
        load_task_corpus(),
        classify,
        regularisation=args.regularisation,
        min_df=args.min_df,
    )
    print("leave-one-writer-out over the task corpus (task accuracy)")
    print(render_by_writer(scores, baseline="cues only"))

    turns = load_chat_turns()
    shipped = default_task_model()
    for label, chosen in (("cues only", None), ("cues and the shipped model", shipped)):
        right = sum(
            classify(prepare_query(turn.query), chosen).task_type == turn.task_type
            for turn in turns
        )
        print(f"chat turns ({len(turns)}), {label}: {right / len(turns):.1%}")

    model = train_task_model(
        default_training_examples(), regularisation=args.regularisation, min_df=args.min_df
    )
    print(
        f"\nmodel on all the data: {model.details['examples']} examples, "
        f"{model.feature_count} features, classes {', '.join(model.classes)}"
    )
    same = TASK_MODEL_FILE.matches_shipped(model.to_json())
    print(f"shipped file {TASK_MODEL_FILE.packaged}: {'the same' if same else 'differs'}")
    if args.write:
        print(f"wrote {model.save(TASK_MODEL_FILE.shipped_path())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
