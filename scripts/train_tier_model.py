"""Train the learned tier model shipped in ``ragged_graph/routing/data/tier_model.json``.

What and on which data: see :mod:`ragged_graph.learning.tier_model_training` (the golden
set's plain tune cases by consensus label, and the task corpus; never the golden holdout).

How to run (from the repository root; a few seconds; needs the ``learned`` extra)::

    /work/venv/bin/python scripts/train_tier_model.py            # check only
    /work/venv/bin/python scripts/train_tier_model.py --write    # and write the model
    /work/venv/bin/python scripts/train_tier_model.py --compare-embeddings minilm  # ~1 min

What it prints
    1. Leave-one-writer-out over the task corpus: for each of its four writers, tier agreement
       of the score thresholds and of a model trained on everything but that writer.
    2. The model trained on all of the data, and whether it equals the shipped file.
    3. With ``--compare-embeddings``: whether embeddings of the queries (``minilm``, the real
       sentence model of the ``local-embeddings`` extra, or ``hashing``, word and character
       n-grams) predict the tiers better than the analyser's dimensions, alone or beside them.
"""

from __future__ import annotations

import argparse
import sys

from ragged_graph.learning.embeddings import HashingEmbeddings, MiniLMEmbeddings
from ragged_graph.learning.task_model_training import render_by_writer
from ragged_graph.learning.tier_model_training import (
    DEFAULT_TIER_REGULARISATION,
    compare_representations,
    cross_validate_tiers_by_writer,
    default_tier_examples,
    train_tier_model,
)
from ragged_graph.routing.tier_model import TIER_MODEL_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="write the model to the package")
    parser.add_argument("--regularisation", type=float, default=DEFAULT_TIER_REGULARISATION)
    parser.add_argument(
        "--compare-embeddings",
        choices=["minilm", "hashing"],
        help="also compare the dimensions with embeddings of the queries",
    )
    args = parser.parse_args()

    examples = default_tier_examples()
    scores = cross_validate_tiers_by_writer(examples, regularisation=args.regularisation)
    print("leave-one-writer-out over the task corpus (tier agreement with the writer)")
    print(render_by_writer(scores, baseline="thresholds"))

    model = train_tier_model(examples, regularisation=args.regularisation)
    print(f"\nmodel on all the data: {model.details['examples']} examples")
    same = TIER_MODEL_FILE.matches_shipped(model.to_json())
    print(f"shipped file {TIER_MODEL_FILE.packaged}: {'the same' if same else 'differs'}")
    if args.write:
        print(f"wrote {model.save(TIER_MODEL_FILE.shipped_path())}")
    if args.compare_embeddings:
        embeddings = (
            MiniLMEmbeddings() if args.compare_embeddings == "minilm" else HashingEmbeddings()
        )
        print(f"\nreading the queries three ways ({args.compare_embeddings} embeddings)")
        print(f"{'representation':24} {'C':>5} {'by writer':>10} {'golden 5-fold':>14}")
        for row in compare_representations(examples, embeddings):
            print(
                f"{row.representation:24} {row.regularisation:5g} {row.by_writer:10.1%} "
                f"{row.golden_folds:14.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
