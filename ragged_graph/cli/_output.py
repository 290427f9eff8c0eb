"""Shared plumbing for commands: loading config with friendly errors, printing JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from ragged_graph.config import RouterConfig, load_config
from ragged_graph.errors import RaggedGraphError

if TYPE_CHECKING:
    from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "ConfigOption",
    "JsonOption",
    "SinceOption",
    "console",
    "error_console",
    "exit_with",
    "load_cli_config",
    "print_json",
    "read_history",
    "user_errors",
]

ResultT = TypeVar("ResultT")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (YAML or TOML).")
]
"""The ``--config FILE`` option every command takes."""
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
"""The ``--json`` option of commands that print a report."""
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        "-s",
        help="Only requests from then on: a duration back from now (30m, 1h, 1d, 2w) "
        "or an ISO date or time (UTC unless it names a zone).",
    ),
]
"""The ``--since`` option of commands that report on the routing history."""

console = Console()
# Errors are not wrapped: paths and commands in them must stay copyable.
error_console = Console(stderr=True, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print ``data`` (pydantic models included) as JSON on stdout, unstyled."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def exit_with(message: str, *, code: int = 1) -> NoReturn:
    error_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn ragged_graph's typed errors into a message and exit status 2, no traceback."""
    try:
        yield
    except RaggedGraphError as exc:
        error_console.print(f"error: {exc}", highlight=False, markup=False, style="red")
        raise typer.Exit(2) from None


def load_cli_config(path: Path | None) -> RouterConfig:
    with user_errors():
        return load_config(path)


def read_history(
    url: str,
    read: Callable[[HistoryStore], ResultT],
    empty: Callable[[], ResultT],
) -> ResultT:
    """``read`` the routing history at ``url``; ``empty()`` where no SQLite file exists yet
    (reading must not create an empty database where none was). A database that cannot be
    read exits with status 3 and the cause."""
    from sqlalchemy.exc import SQLAlchemyError

    from ragged_graph.telemetry.store import HistoryStore, sqlite_file
    from ragged_graph.telemetry.writer import safe_url

    file = sqlite_file(url)
    if file is not None and not file.exists():
        error_console.print(f"no routing history yet at {file}", highlight=False)
        return empty()
    store = HistoryStore(url)
    try:
        return read(store)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        error_console.print(
            f"error: cannot read the routing history at {safe_url(url)}: {cause}".strip(),
            highlight=False,
            markup=False,
            style="red",
        )
        raise typer.Exit(3) from None
    finally:
        store.close()
