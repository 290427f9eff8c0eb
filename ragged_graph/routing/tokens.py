"""Token estimates, for checking a request fits a model's context window before calling it."""

from __future__ import annotations

import math

from ragged_graph.routing.query_text import PreparedQuery

__all__ = ["ANSWER_TOKEN_RESERVE", "CHARS_PER_TOKEN", "estimate_request_tokens", "estimate_tokens"]

# English averages about four characters per token across the tokenizers of common local
# models; an estimate that is a little high only costs a slightly larger model.
CHARS_PER_TOKEN = 4.0
# Room left for the answer and the chat template around the prompt.
ANSWER_TOKEN_RESERVE = 1024


def estimate_tokens(text_length: int) -> int:
    """Tokens in a text of ``text_length`` characters."""
    return math.ceil(text_length / CHARS_PER_TOKEN)


def estimate_request_tokens(prepared: PreparedQuery) -> int:
    """Tokens a request needs: the query, its retrieved documents and the answer."""
    characters = prepared.length + sum(map(len, prepared.documents))
    return estimate_tokens(characters) + ANSWER_TOKEN_RESERVE
