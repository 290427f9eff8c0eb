"""Loading RouteLLM response folders: layout, contamination, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.learning.routellm import (
    STRONG_MODEL_COLUMN,
    WEAK_MODEL_COLUMN,
    RoutellmDataError,
    RoutellmDataset,
    load_routellm_dataset,
)

FIXTURE = Path(__file__).parent / "fixtures" / "routellm" / "mmlu_like"
CONTAMINATED_PROMPT = (
    "A contaminated question, also in the router training data: how far is the Moon?\n"
    "A. 384,400 km\nB. 1 AU\nAnswer:"
)
HEADER = f"prompt,{WEAK_MODEL_COLUMN},{STRONG_MODEL_COLUMN}\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_subject_file_in_name_order() -> None:
    dataset = load_routellm_dataset(FIXTURE)

    assert dataset.name == "mmlu_like"
    assert dataset.sources == ("anatomy",) * 3 + ("astronomy",) * 3
    assert dataset.prompts[0].startswith("Which bone is the longest")
    # Multi-line quoted prompts survive intact.
    assert dataset.prompts[0].endswith("\nA. femur\nB. tibia\nAnswer:")
    assert dataset.weak_correct == (True, False, False, True, False, False)
    assert dataset.strong_correct == (True, True, False, False, True, True)
    assert dataset.weak_accuracy == pytest.approx(2 / 6)
    assert dataset.strong_accuracy == pytest.approx(4 / 6)


def test_contaminated_prompts_are_left_out_and_counted() -> None:
    dataset = load_routellm_dataset(FIXTURE)

    assert CONTAMINATED_PROMPT not in dataset.prompts
    assert dataset.rows_read == 7
    # The list has two entries, but only one of them occurs in this folder.
    assert dataset.excluded_contaminated == 1
    assert len(dataset) == 6


def test_contaminated_prompts_can_be_kept_on_request() -> None:
    dataset = load_routellm_dataset(FIXTURE, exclude_contaminated=False)

    assert CONTAMINATED_PROMPT in dataset.prompts
    assert dataset.excluded_contaminated == 0
    assert len(dataset) == 7


def test_a_folder_without_a_contamination_list_excludes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "gsm8k"
    write(folder, "gsm8k_responses.csv", HEADER + "What is 2 + 2?,True,True\n1 + 1?,False,True\n")

    dataset = load_routellm_dataset(folder)

    assert dataset.name == "gsm8k"
    assert dataset.sources == ("gsm8k", "gsm8k")
    assert dataset.excluded_contaminated == 0


def test_the_repr_leaves_out_the_prompts() -> None:
    text = repr(load_routellm_dataset(FIXTURE))

    assert "femur" not in text
    assert "excluded_contaminated=1" in text


def test_subset_keeps_rows_aligned() -> None:
    dataset = load_routellm_dataset(FIXTURE)

    part = dataset.subset([4, 0])

    assert part.prompts == (dataset.prompts[4], dataset.prompts[0])
    assert part.weak_correct == (False, True)
    assert part.strong_correct == (True, True)
    assert part.sources == ("astronomy", "anatomy")


def test_mismatched_columns_are_rejected() -> None:
    with pytest.raises(ValueError, match="equally long"):
        RoutellmDataset(
            name="x",
            directory=Path(),
            prompts=("a", "b"),
            weak_correct=(True,),
            strong_correct=(True, False),
            sources=("x", "x"),
            rows_read=2,
            excluded_contaminated=0,
        )


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(RoutellmDataError, match="no such folder") as caught:
        load_routellm_dataset(tmp_path / "absent")
    assert caught.value.path == tmp_path / "absent"


def test_folder_without_csv_files(tmp_path: Path) -> None:
    with pytest.raises(RoutellmDataError, match=r"no \*\.csv files"):
        load_routellm_dataset(tmp_path)


def test_missing_column_names_file_and_expected_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "mmlu_x.csv", f"prompt,{WEAK_MODEL_COLUMN}\nq,True\n")

    with pytest.raises(RoutellmDataError) as caught:
        load_routellm_dataset(tmp_path)

    message = str(caught.value)
    assert str(path) in message
    assert f"missing column(s) ['{STRONG_MODEL_COLUMN}']" in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad_value", ["yes", "", "2"])
def test_unparseable_boolean_names_file_line_and_column(tmp_path: Path, bad_value: str) -> None:
    path = write(tmp_path, "mmlu_x.csv", HEADER + "q1,True,False\n" + f"q2,{bad_value},True\n")

    with pytest.raises(RoutellmDataError) as caught:
        load_routellm_dataset(tmp_path)

    message = str(caught.value)
    assert str(path) in message
    assert f"line 3, column '{WEAK_MODEL_COLUMN}': expected True or False" in message


def test_other_boolean_spellings_are_accepted(tmp_path: Path) -> None:
    write(tmp_path, "mmlu_x.csv", HEADER + "q1,true,1\nq2, FALSE ,0.0\n")

    dataset = load_routellm_dataset(tmp_path)

    assert dataset.weak_correct == (True, False)
    assert dataset.strong_correct == (True, False)


def test_short_row_is_reported_not_crashed_on(tmp_path: Path) -> None:
    write(tmp_path, "mmlu_x.csv", HEADER + "q1,True\n")

    with pytest.raises(RoutellmDataError, match=f"line 2, column '{STRONG_MODEL_COLUMN}'"):
        load_routellm_dataset(tmp_path)


def test_empty_csv(tmp_path: Path) -> None:
    write(tmp_path, "mmlu_x.csv", "")

    with pytest.raises(RoutellmDataError, match="empty file"):
        load_routellm_dataset(tmp_path)


def test_non_utf8_csv(tmp_path: Path) -> None:
    (tmp_path / "mmlu_x.csv").write_bytes(HEADER.encode() + b"caf\xe9,True,True\n")

    with pytest.raises(RoutellmDataError, match="not valid UTF-8"):
        load_routellm_dataset(tmp_path)


def test_malformed_contamination_list(tmp_path: Path) -> None:
    write(tmp_path, "mmlu_x.csv", HEADER + "q1,True,False\n")
    path = write(tmp_path, "contaminated_prompts.jsonl", '{"eval_prompt": "q9"}\n{"prompt": 1}\n')

    with pytest.raises(
        RoutellmDataError, match='line 2: expected an object with a string "eval'
    ) as caught:
        load_routellm_dataset(tmp_path)
    assert caught.value.path == path


def test_everything_contaminated(tmp_path: Path) -> None:
    write(tmp_path, "mmlu_x.csv", HEADER + "q1,True,False\n")
    write(tmp_path, "contaminated_prompts.jsonl", '{"eval_prompt": "q1"}\n')

    with pytest.raises(RoutellmDataError, match="no prompts left"):
        load_routellm_dataset(tmp_path)


def test_long_fields_load(tmp_path: Path) -> None:
    # Larger than the csv module's default 128 KiB field limit.
    long_prompt = "word " * 60_000
    write(tmp_path, "mmlu_x.csv", HEADER + f"{long_prompt},True,False\nshort,False,True\n")

    assert load_routellm_dataset(tmp_path).prompts[0] == long_prompt


def test_fixture_folder_is_intact() -> None:
    # Guards the fixture against edits that would silently change the expectations above.
    names = sorted(path.name for path in FIXTURE.iterdir())
    assert names == ["contaminated_prompts.jsonl", "mmlu_anatomy.csv", "mmlu_astronomy.csv"]
