"""The Ollama-protocol test server, and its command line.

Run a stand-in Ollama until Ctrl-C::

    python -m ragged_graph.testing.ollama_server --port 11435
    python -m ragged_graph.testing.ollama_server --model qwen2.5:7b --answer "Hi"
    python -m ragged_graph.testing.ollama_server --script models.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ragged_graph.testing._defaults import DEFAULT_MODELS, default_model
from ragged_graph.testing._records import RecordedRequest
from ragged_graph.testing._script_files import load_script, model_from_mapping
from ragged_graph.testing._scripts import (
    AnswerFunction,
    ChatRequest,
    Fault,
    Reply,
    ScriptedModel,
    ToolCall,
)
from ragged_graph.testing._server import OLLAMA_VERSION, OllamaServer

__all__ = [
    "DEFAULT_MODELS",
    "OLLAMA_VERSION",
    "AnswerFunction",
    "ChatRequest",
    "Fault",
    "OllamaServer",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "ToolCall",
    "load_script",
    "main",
    "model_from_mapping",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ragged_graph.testing.ollama_server",
        description="Serve Ollama's HTTP API from scripted models, until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: a free one)")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="serve only these models (repeatable); known tags keep realistic metadata",
    )
    answers = parser.add_mutually_exclusive_group()
    answers.add_argument("--answer", metavar="TEXT", help="fixed answer of every model")
    answers.add_argument(
        "--answer-template",
        metavar="TEMPLATE",
        help="answer template of every model, with {prompt}, {system} and {model}",
    )
    parser.add_argument(
        "--script", metavar="FILE", help="models from a YAML or JSON file (see load_script)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _models(args: argparse.Namespace) -> list[ScriptedModel]:
    models = load_script(args.script) if args.script else list(DEFAULT_MODELS)
    if args.model:
        by_tag = {m.tag: m for m in models}
        chosen = []
        for name in args.model:
            probe = ScriptedModel(name=name)
            chosen.append(by_tag.get(probe.tag) or default_model(name) or probe)
        models = chosen
    if args.answer is not None or args.answer_template is not None:
        models = [
            dataclasses.replace(m, answer=args.answer, answer_template=args.answer_template)
            for m in models
        ]
    return models


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        models = _models(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = OllamaServer(models, host=args.host, port=args.port, verbose=args.verbose)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    print(f"Ollama test server listening on {server.base_url}", flush=True)
    print(f"models: {', '.join(server.models)}", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
