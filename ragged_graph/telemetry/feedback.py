"""Feedback on answers: stored with the routing record, and sent to LangSmith when tracing.

A user rates an answer by the id of the request that produced it (``RaggedRouter``'s run
id, which is the routing record's ``request_id``): a score from 0 to 1, thumbs up or down,
and/or a corrected answer. Every piece of feedback is kept in its own table
(``routing_feedback``, beside the routing history in the same database), so that nothing
is lost when a request is rated twice; the routing record's ``feedback`` column holds the
latest score, which is what the analytics and the A/B report read. The learned router
trains on these scores (:mod:`ragged_graph.learning.history_training`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from ragged_graph.errors import InvalidRequestError
from ragged_graph.telemetry.store import HistoryStore, UTCDateTime, metadata, routing_history

__all__ = [
    "FEEDBACK_KEY",
    "Feedback",
    "FeedbackLog",
    "SubmittedFeedback",
    "make_feedback",
    "routing_feedback",
    "send_to_langsmith",
    "submit_feedback",
]

logger = logging.getLogger("ragged_graph.telemetry.feedback")

FEEDBACK_KEY = "user_score"
"""The LangSmith feedback key under which ratings are sent."""

routing_feedback = Table(
    "routing_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("score", Float),
    Column("thumbs", Boolean),
    Column("correction", Text),
    Column("comment", Text),
    Index("ix_routing_feedback_request_id", "request_id"),
    Index("ix_routing_feedback_time", "time"),
)


class Feedback(BaseModel):
    """One rating of one answer."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    request_id: str = Field(min_length=1, max_length=128)
    """The rated request: ``RaggedRouter``'s run id, the routing record's ``request_id``."""

    score: float | None = Field(default=None, ge=0, le=1)
    """How good the answer was, from 0 (useless) to 1 (right); from ``thumbs`` if not given."""

    thumbs: bool | None = None
    """Thumbs up (True) or down (False)."""

    correction: str | None = None
    """What the answer should have been."""

    comment: str | None = None
    """Anything else the user said."""

    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    """When the feedback was given (UTC)."""

    @model_validator(mode="after")
    def _says_something(self) -> Feedback:
        if self.score is None and self.thumbs is None and self.correction is None:
            raise ValueError("give a score, thumbs up/down or a correction")
        return self

    @property
    def effective_score(self) -> float | None:
        """The score, else 1 for thumbs up and 0 for thumbs down; None with only a correction."""
        if self.score is not None:
            return self.score
        if self.thumbs is not None:
            return 1.0 if self.thumbs else 0.0
        return None


def make_feedback(
    request_id: object,
    *,
    score: float | None = None,
    thumbs: bool | None = None,
    correction: str | None = None,
    comment: str | None = None,
) -> Feedback:
    """Validated :class:`Feedback`; :class:`~ragged_graph.errors.InvalidRequestError` says
    what is wrong (no rating at all, a score outside 0..1, an empty id)."""
    if score is not None and not math.isfinite(score):
        raise InvalidRequestError(f"feedback score must be a number from 0 to 1, got {score!r}")
    try:
        return Feedback(
            request_id=str(request_id),
            score=score,
            thumbs=thumbs,
            correction=correction,
            comment=comment,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'feedback'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidRequestError(
            f"invalid feedback for {request_id!s}: {problems}. Give score=0..1, "
            "thumbs=True/False or a correction."
        ) from exc


class FeedbackLog:
    """Feedback in the routing-history database (``routing_feedback`` table)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self._schema_ready = False

    def _ensure_schema(self) -> None:
        # Once per log, not per store: the store may have made its tables before this
        # module (and so the feedback table) was imported.
        if not self._schema_ready:
            self.store.create_schema()
            self._schema_ready = True

    def add(self, feedback: Feedback) -> bool:
        """Keep ``feedback``, and set its routing record's score; True if a record matched.

        Feedback for a request with no record yet (or whose record was dropped) is kept all
        the same: the table is the whole log, and a record written later can be matched.
        """
        self._ensure_schema()
        with self.store.engine.begin() as connection:
            connection.execute(
                insert(routing_feedback).values(
                    time=feedback.time,
                    request_id=feedback.request_id,
                    score=feedback.score,
                    thumbs=feedback.thumbs,
                    correction=feedback.correction,
                    comment=feedback.comment,
                )
            )
            matched = 0
            if feedback.effective_score is not None:
                result = connection.execute(
                    update(routing_history)
                    .where(routing_history.c.request_id == feedback.request_id)
                    .values(feedback=feedback.effective_score)
                )
                matched = result.rowcount
            else:
                found = connection.execute(
                    select(func.count())
                    .select_from(routing_history)
                    .where(routing_history.c.request_id == feedback.request_id)
                ).scalar_one()
                matched = int(found)
        return matched > 0

    def for_request(self, request_id: str) -> list[Feedback]:
        """Every piece of feedback on ``request_id``, oldest first."""
        return [
            _row_to_feedback(row)
            for row in self._rows(routing_feedback.c.request_id == str(request_id))
        ]

    def since(self, since: datetime | None = None) -> list[Feedback]:
        """All feedback from ``since`` on (everything if None), oldest first."""
        condition = routing_feedback.c.time >= since if since is not None else None
        return [_row_to_feedback(row) for row in self._rows(condition)]

    def count(self, since: datetime | None = None) -> int:
        """How many pieces of feedback arrived from ``since`` on."""
        self._ensure_schema()
        query = select(func.count()).select_from(routing_feedback)
        if since is not None:
            query = query.where(routing_feedback.c.time >= since)
        with self.store.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def _rows(self, condition: Any) -> list[dict[str, Any]]:
        self._ensure_schema()
        query = select(routing_feedback).order_by(routing_feedback.c.time, routing_feedback.c.id)
        if condition is not None:
            query = query.where(condition)
        with self.store.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def _row_to_feedback(row: dict[str, Any]) -> Feedback:
    return Feedback(
        request_id=row["request_id"],
        score=row["score"],
        thumbs=row["thumbs"],
        correction=row["correction"],
        comment=row["comment"],
        time=row["time"],
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmittedFeedback:
    """What became of a piece of feedback."""

    matched_record: bool
    """Whether its routing record was in the history (else it waits in the log for one)."""

    sent_to_langsmith: bool
    """Whether it went to LangSmith (tracing on, and the call succeeded)."""


def submit_feedback(
    url: str | None,
    feedback: Feedback,
    *,
    then: Callable[[HistoryStore], None] | None = None,
) -> SubmittedFeedback:
    """Keep ``feedback`` in the history database at ``url`` and, when tracing is on, send it
    to LangSmith; ``then`` runs on the same open store afterwards.

    ``url`` None means the history is off: :class:`~ragged_graph.errors.InvalidRequestError`
    says to turn it on, since feedback is kept with the routing records.
    """
    from langsmith.utils import tracing_is_enabled

    if url is None:
        raise InvalidRequestError(
            "feedback is stored with the routing history, which is off: set "
            "history.enabled: true in the config"
        )
    store = HistoryStore(url)
    try:
        matched = FeedbackLog(store).add(feedback)
        if then is not None:
            then(store)
    finally:
        store.close()
    sent = tracing_is_enabled() and send_to_langsmith(feedback)
    return SubmittedFeedback(matched_record=matched, sent_to_langsmith=sent)


def send_to_langsmith(
    feedback: Feedback, client: Any | None = None, *, project_name: str | None = None
) -> bool:
    """Send ``feedback`` to LangSmith on the run it rates; False (logged) if that failed.

    ``client`` is a ``langsmith.Client`` (one from the environment by default). The run's
    project (``project_name``, default: the tracing project of the environment,
    ``LANGSMITH_PROJECT``) goes with it as ``session_id``, which LangSmith needs to find the
    run (its deployments without the old run store refuse feedback without it); its id is
    looked up once per process. A failure to reach LangSmith never loses the feedback: it is
    already in the database.
    """
    from langsmith import Client
    from langsmith.utils import get_tracer_project

    active = client if client is not None else Client()
    project = project_name or get_tracer_project() or "default"
    try:
        active.create_feedback(
            run_id=feedback.request_id,
            key=FEEDBACK_KEY,
            score=feedback.effective_score,
            value="up" if feedback.thumbs else "down" if feedback.thumbs is not None else None,
            correction={"answer": feedback.correction} if feedback.correction else None,
            comment=feedback.comment,
            session_id=_project_id(active, project),
        )
    except Exception as exc:  # the network, an auth error: the database copy stands
        logger.warning("could not send feedback on %s to LangSmith: %s", feedback.request_id, exc)
        return False
    return True


_project_ids: dict[tuple[str, str], str] = {}
_project_ids_lock = threading.Lock()


def _project_id(client: Any, project: str) -> str | None:
    """The id of the LangSmith project ``project``, looked up once per endpoint and name;
    None (the feedback then goes without it) if LangSmith does not know the project."""
    from langsmith.utils import LangSmithNotFoundError

    key = (str(client.api_url), project)
    with _project_ids_lock:
        known = _project_ids.get(key)
    if known is not None:
        return known
    try:
        found = str(client.read_project(project_name=project).id)
    except LangSmithNotFoundError:
        logger.info("LangSmith has no project %r; feedback goes without its id", project)
        return None
    with _project_ids_lock:
        _project_ids[key] = found
    return found
