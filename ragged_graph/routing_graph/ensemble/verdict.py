"""`Verdict`: what the ensemble's verifier says of an answer (its structured output)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Verdict", "VerdictName"]

VerdictName = Literal["accept", "revise", "reject"]
"""The verifier's judgement: keep the answer, replace it with a refined one, or escalate."""


class Verdict(BaseModel):
    """The verifier's judgement of an answer, checked against the question and the context."""

    # The docstrings become the JSON schema's descriptions, which the verifier model reads.
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    verdict: VerdictName
    """accept: the answer is correct and complete as it stands; revise: it can be fixed, and
    refined_answer holds the whole corrected answer; reject: it is wrong and cannot be fixed
    here."""
    refined_answer: str | None = None
    """With revise: the complete corrected answer, to be given instead; otherwise null."""
    reasons: list[str] = Field(default_factory=list)
    """Short reasons for the verdict."""
