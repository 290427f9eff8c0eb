"""Train the learned tier model shipped in ``ragged_graph/routing/data/tier_model.json``.

What and on which data: see :mod:`ragged_graph.learning.tier_model_training` (the golden
set's plain tune cases by consensus label, and the task corpus; never the golden holdout).

How to run (from the repository root; a few seconds; needs the ``learned`` extra)::

    /work/venv/bin/python scripts/train_tier_model.py            # check only
    /work/venv/bin/python scripts/train_tier_model.py --write    # and write the model

What it prints
    1. Leave-one-writer-out over the task corpus: for each of its four writers, tier agreement
       of the score thresholds and of a model trained on everything but that writer.
    2. The model trained on all of the data, and whether it equals the shipped file.
"""

from __future__ import annotations

import argparse
import sys

from ragged_graph.learning.task_model_training import render_by_writer
from ragged_graph.learning.tier_model_training import (
    DEFAULT_TIER_REGULARISATION,
    cross_validate_tiers_by_writer,
    default_tier_examples,
    train_tier_model,
)
from ragged_graph.routing.tier_model import TIER_MODEL_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="write the model to the package")
    parser.add_argument("--regularisation", type=float, default=DEFAULT_TIER_REGULARISATION)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
