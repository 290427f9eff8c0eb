"""`python -m ragged_graph ...` runs the `ragged-graph` command line."""

from ragged_graph.cli import main

if __name__ == "__main__":
    main()
