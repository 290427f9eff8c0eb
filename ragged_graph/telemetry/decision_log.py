"""The decision log: one line per routed request on the ``ragged_graph.decisions`` logger.

Standard :mod:`logging`, quiet by default: the logger gets no handler and no level of its
own, so with Python's defaults (root at WARNING) nothing is built or shown, and an
application that shows INFO records shows these lines too. The ``logging:`` config section
can add a stream or file handler. Each line is ``key=value`` text or one JSON object; the
fields also travel on the log record as ``record.routing`` (a dict) for structured handlers.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any, Literal

from ragged_graph.telemetry.records import RoutingRecord

__all__ = [
    "DECISION_LOGGER",
    "DecisionLog",
    "add_decision_handler",
    "decision_fields",
    "remove_decision_handlers",
]

DECISION_LOGGER = "ragged_graph.decisions"
"""The logger's name."""

logger = logging.getLogger(DECISION_LOGGER)

LogFormat = Literal["text", "json"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handlers: dict[tuple[str, str], logging.Handler] = {}
_handlers_lock = threading.Lock()


def decision_fields(record: RoutingRecord) -> dict[str, Any]:
    """What a decision line says: the decision, the models tried and how the request ended."""
    failed = [
        f"{attempt.model}@{attempt.host or '-'}:{attempt.error_code}"
        for attempt in record.attempts
        if not attempt.ok
    ]
    fields: dict[str, Any] = {
        "event": "routing_decision",
        "time": record.time.isoformat(),
        "request_id": record.request_id,
        "session_id": record.session_id,
        "persona": record.persona,
        "task": record.task_type,
        "task_confidence": round(record.task_confidence, 3),
        "complexity": round(record.complexity, 2),
        "tier": record.tier,
        "model": record.model,
        "model_tier": record.model_tier,
        "answered_by": record.answered_by,
        "host": record.host,
        "outcome": record.outcome,
        "fallbacks": record.fallback_count,
        "failed": failed,
        "latency_ms": round(record.latency_ms, 2),
        "first_token_ms": (
            round(record.first_token_ms, 2) if record.first_token_ms is not None else None
        ),
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "cost_usd": record.cost_usd,
        "reason": record.reason,
    }
    if record.ab_experiment is not None:
        fields["experiment"] = record.ab_experiment
        fields["variant"] = record.ab_variant
    if record.query_text is not None:
        fields["query"] = record.query_text
    if record.query_hash is not None:
        fields["query_hash"] = record.query_hash
    return fields


class _Line:
    """The message, rendered only if a handler formats it."""

    __slots__ = ("fields", "format")

    def __init__(self, fields: dict[str, Any], format: LogFormat) -> None:
        self.fields = fields
        self.format = format

    def __str__(self) -> str:
        if self.format == "json":
            return json.dumps(self.fields, ensure_ascii=False, default=str)
        return " ".join(
            f"{key}={_text_value(value)}" for key, value in self.fields.items() if key != "event"
        )


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or "-"
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


class DecisionLog:
    """Logs decision lines in one format at one level.

    Args:
        format: ``text`` or ``json``.
        level: the level of each line (a ``logging`` level number or name).
    """

    def __init__(self, format: LogFormat = "text", level: int | str = logging.INFO) -> None:
        self.format: LogFormat = format
        """The line format."""
        self.level = logging.getLevelName(level) if isinstance(level, str) else level
        """The level number of each line."""

    def enabled(self) -> bool:
        """Whether a line would go anywhere (checked before building one)."""
        return logger.isEnabledFor(self.level)

    def log(self, record: RoutingRecord) -> None:
        """Log the line for ``record``, if anyone listens."""
        if not logger.isEnabledFor(self.level):
            return
        fields = decision_fields(record)
        logger.log(self.level, "%s", _Line(fields, self.format), extra={"routing": fields})


def add_decision_handler(
    *,
    format: LogFormat = "text",
    level: int | str = logging.INFO,
    stream: Literal["stderr", "stdout"] | None = None,
    file: str | None = None,
) -> list[logging.Handler]:
    """Send decision lines to ``stream`` and/or ``file`` (once per destination and format),
    and let the logger pass records of ``level`` and up. Returns the handlers in use."""
    number = logging.getLevelName(level) if isinstance(level, str) else level
    destinations = ([f"stream:{stream}"] if stream else []) + (
        [f"file:{Path(file).expanduser().resolve()}"] if file else []
    )
    handlers = []
    with _handlers_lock:
        for destination in destinations:
            key = (destination, format)
            handler = _handlers.get(key)
            if handler is None:
                handler = _make_handler(destination)
                handler.setFormatter(
                    logging.Formatter("%(message)s" if format == "json" else _TEXT_FORMAT)
                )
                logger.addHandler(handler)
                _handlers[key] = handler
            handlers.append(handler)
        if handlers and (logger.level == logging.NOTSET or logger.level > number):
            logger.setLevel(number)
    return handlers


def remove_decision_handlers() -> None:
    """Take away the handlers :func:`add_decision_handler` added, and the level it set."""
    with _handlers_lock:
        for handler in _handlers.values():
            logger.removeHandler(handler)
            handler.close()
        _handlers.clear()
        logger.setLevel(logging.NOTSET)


def _make_handler(destination: str) -> logging.Handler:
    kind, _, where = destination.partition(":")
    if kind == "stream":
        # The stream is looked up when writing, so that redirected streams are honoured.
        return _StdStreamHandler(where)
    Path(where).parent.mkdir(parents=True, exist_ok=True)
    return logging.FileHandler(where, encoding="utf-8", delay=True)


class _StdStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler for ``sys.stderr`` or ``sys.stdout`` as they are at each write."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    @property
    def stream(self) -> Any:
        return getattr(sys, self._name)

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass
