"""A cheap guess at a query's language, for persona rules that depend on it.

Scripts decide Chinese, Japanese and Korean; for Latin-script text, the language whose most
common function words appear most often wins, with English the default. Good enough to tell
English from not-English and the common European languages apart in a sentence or two.
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "detect_language"]

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "zh", "ja", "ko", "other")

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f]")
_WORD = re.compile(r"[a-zà-öø-ÿ']+")
_FUNCTION_WORDS = {
    "en": {"the", "and", "is", "of", "to", "what", "how", "you", "this", "with", "for", "it"},
    "fr": {"le", "la", "les", "et", "est", "des", "une", "pour", "que", "qui", "dans", "pas"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "wie", "ich", "zu"},
    "es": {"el", "los", "las", "y", "es", "que", "una", "para", "por", "cómo", "qué", "con"},
    "it": {"il", "gli", "e", "è", "che", "una", "per", "non", "come", "della", "si", "di"},
    "pt": {"o", "os", "as", "e", "é", "que", "uma", "para", "não", "como", "com", "do"},
    "nl": {"de", "het", "een", "en", "is", "niet", "van", "wat", "hoe", "ik", "met", "voor"},
}


def detect_language(text: str, *, sample_chars: int = 600) -> str:
    """One of :data:`LANGUAGES` for ``text`` (only its first ``sample_chars`` are read)."""
    sample = text[:sample_chars]
    if _KANA.search(sample):
        return "ja"
    if _HANGUL.search(sample):
        return "ko"
    if _HAN.search(sample):
        return "zh"
    if _OTHER_SCRIPT.search(sample):
        return "other"
    words = _WORD.findall(sample.lower())
    if not words:
        return "en"
    counts = {
        language: sum(word in vocabulary for word in words)
        for language, vocabulary in _FUNCTION_WORDS.items()
    }
    best = max(counts, key=lambda language: (counts[language], language == "en"))
    return best if counts[best] > 0 else "en"
