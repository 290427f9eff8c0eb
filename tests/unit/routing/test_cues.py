"""CueIndex: phrases found by their first words, near cues, and the cues read off the text."""

from __future__ import annotations

from ragged_graph.routing.cues import ANY_DIGIT, Cue, CueIndex, CueScore


def _scan(index: CueIndex, text: str, *, has_digit: bool = True) -> dict[str, CueScore]:
    return index.scan(text, text.split(), has_digit=has_digit)


def _found(scores: dict[str, CueScore], group: str) -> list[tuple[str, float]]:
    return [(m.text, m.weight) for m in scores[group].matches] if group in scores else []


def test_a_phrase_matches_whatever_kind_of_word_follows_its_first() -> None:
    index = CueIndex(
        {
            "listed": (Cue.words("sum up | key points", 1.0),),
            "prefixed": (Cue.words("garbage collect*", 1.0),),
            "negated": (Cue.words("how do !i/you", 1.0),),
            "any": (Cue.words("word for ? in", 1.0),),
        }
    )
    text = "sum up the key points garbage collection how do they the word for cat in"
    scores = _scan(index, text)
    assert _found(scores, "listed") == [("sum up", 1.0)]
    assert _found(scores, "prefixed") == [("garbage collection", 1.0)]
    assert _found(scores, "negated") == [("how do they", 1.0)]
    assert _found(scores, "any") == [("word for cat in", 1.0)]
    assert _scan(index, "how do i sum it up").keys() == set()


def test_one_word_and_its_longer_phrases_match_at_the_same_place() -> None:
    index = CueIndex(
        {
            "compare": (Cue.words("difference | difference between", 1.0),),
            "pair": (Cue.words("difference between", 2.0),),
        }
    )
    scores = _scan(index, "the difference between them")
    # One cue counts once: its first match in index order is kept at equal weight.
    assert _found(scores, "compare") == [("difference", 1.0)]
    assert _found(scores, "pair") == [("difference between", 2.0)]


def test_a_phrase_cut_off_by_the_end_of_the_text_does_not_match() -> None:
    index = CueIndex({"pair": (Cue.words("key points", 1.0),)})
    assert _scan(index, "list the key").keys() == set()


def test_near_finds_its_second_part_within_the_window_unless_interrupted() -> None:
    index = CueIndex(
        {"code": (Cue.near("write", "function | unit test", 1.0, within=3, unless="email"),)}
    )
    assert _found(_scan(index, "write a small unit test"), "code") == [
        ("write a small unit test", 1.0)
    ]
    assert _scan(index, "write a launch email function").keys() == set()
    assert _scan(index, "write one two three four function").keys() == set()


def test_near_with_a_prefixed_second_part_matches() -> None:
    index = CueIndex({"sum": (Cue.near("write", "summar*", 1.0),)})
    assert _found(_scan(index, "write me a summary"), "sum") == [("write me a summary", 1.0)]


def test_substrings_without_a_guard_match_only_where_present() -> None:
    index = CueIndex(
        {
            "code": (Cue.substrings(("c++", "->"), 1.0),),
            "fence": (Cue.substrings(("```",), 2.0),),
        }
    )
    assert _found(_scan(index, "a -> b in c++"), "code") == [("c++", 1.0)]
    assert _scan(index, "a plain question").keys() == set()


def test_cjk_substrings_are_tried_only_on_text_with_cjk_script() -> None:
    index = CueIndex({"poem": (Cue.substrings(("诗",), 1.0),)})
    assert _found(index.scan("写一首诗", [], has_cjk=True), "poem") == [("诗", 1.0)]
    assert index.scan("写一首诗", [], has_cjk=False) == {}


def test_guarded_regexes_run_only_when_their_guard_is_present() -> None:
    index = CueIndex(
        {
            "sum": (Cue.regex(r"\d\s*\+\s*\d", 1.0, guard=(ANY_DIGIT,)),),
            "loop": (Cue.regex(r"\bwhile \w+ *<", 1.0, guard=("while ",)),),
        }
    )
    assert _found(_scan(index, "what is 2 + 3"), "sum") == [("2 + 3", 1.0)]
    assert _scan(index, "what is 2 + 3", has_digit=False).keys() == set()
    assert _found(_scan(index, "while i < 3"), "loop") == [("while i <", 1.0)]
    assert _scan(index, "while away the hours").keys() == set()


def test_material_counts_for_less_unless_the_cue_is_anywhere() -> None:
    index = CueIndex(
        {
            "word": (Cue.regex(r"summary", 1.0),),
            "code": (Cue.regex(r"def \w+\(", 2.0, anywhere=True),),
        }
    )
    text = "fix this: def f( summary"
    scores = index.scan(text, ["fix", "this"], material_span=(8, len(text)), material_weight=0.5)
    assert _found(scores, "word") == [("summary", 0.5)]
    assert _found(scores, "code") == [("def f(", 2.0)]
