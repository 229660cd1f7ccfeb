"""`stancekit validate`: one line per problem (FILE:LINE: FIELD: message), exit 1; summary and exit 0 when valid."""

from __future__ import annotations

import pytest

from stancekit.data.validation import validate_files

from conftest import make_record, write_jsonl


def test_valid_file_prints_summary_with_counts(cli, tmp_path):
    path = write_jsonl(tmp_path / "ok.jsonl", [
        make_record(1, stance="regime", claim_type="threat"),
        make_record(2, stance="opposition", claim_type="repression", secondary_claim_types=["threat"]),
        make_record(3)])
    process = cli("validate", path)
    assert process.returncode == 0, process.stdout + process.stderr
    lines = process.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("3 records")
    assert "regime 1, opposition 1, neutral 1" in lines[0]
    assert "threat 1" in lines[0] and "repression 1" in lines[0] and "none 1" in lines[0]


@pytest.mark.parametrize("record, line, field, words", [
    ('{"id": "x", "text": ', 2, None, "invalid JSON"),
    (make_record(9, stance="royalist"), 2, "stance", "unknown label 'royalist'"),
    (make_record(9, claim_type="propaganda"), 2, "claim_type", "unknown label 'propaganda'"),
    ({k: v for k, v in make_record(9).items() if k != "stance"}, 2, "stance", "missing required field"),
    (make_record(9, text="   "), 2, "text", "empty text"),
    (make_record(9, text=""), 2, "text", "empty text"),
    (make_record(9, schema_version="0.9"), 2, "schema_version", "expected '1.0'"),
    (make_record(9, origin="copied"), 2, "origin", "unknown label 'copied'"),
    (make_record(9, secondary_claim_types=["threat", "bogus"]), 2, "secondary_claim_types.1", "unknown label"),
    (make_record(9, colour="red"), 2, "colour", "unknown field"),
    (make_record(9, text=42), 2, "text", "must be of type string"),
    (make_record(1), 2, "id", "duplicate id 't-0001'"),
])
def test_each_problem_is_one_line_naming_file_line_and_field(cli, tmp_path, record, line, field, words):
    path = write_jsonl(tmp_path / "bad.jsonl", [make_record(1), record])
    process = cli("validate", path)
    assert process.returncode == 1
    problems = process.stdout.strip().splitlines()
    assert len(problems) == 1, problems
    prefix = f"{path}:{line}: " + (f"{field}: " if field else "")
    assert problems[0].startswith(prefix), problems[0]
    assert words in problems[0]
    assert "Traceback" not in process.stderr


def test_duplicate_ids_are_found_across_files(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [make_record(1), make_record(2)])
    second = write_jsonl(tmp_path / "b.jsonl", [make_record(3), make_record(2)])
    report = validate_files([first, second])
    assert [str(p) for p in report.problems] == [
        f"{second}:2: id: duplicate id 't-0002', first used at {first}:2"]


def test_all_problems_of_a_file_are_listed(cli, tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [
        make_record(1, stance="x"), make_record(2, claim_type="y"), make_record(3)])
    process = cli("validate", path)
    assert process.returncode == 1
    assert len(process.stdout.strip().splitlines()) == 2


def test_invalid_utf8_and_missing_file(cli, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"text": "caf\xe9"}\n')
    process = cli("validate", path, tmp_path / "missing.jsonl")
    assert process.returncode == 1
    lines = process.stdout.strip().splitlines()
    assert lines[0].startswith(f"{path}:1: invalid UTF-8")
    assert lines[1].startswith(f"{tmp_path / 'missing.jsonl'}: cannot read file")


def test_shipped_corpus_is_valid():
    from stancekit.data import corpus_files

    report = validate_files(corpus_files())
    assert report.ok, [str(p) for p in report.problems[:5]]
    assert report.records >= 1500


def test_byte_order_mark_is_read_the_same_everywhere(cli, tmp_path):
    records = [make_record(i, text=f"Record {i} says the strike went on for a {i}th day.") for i in range(1, 4)]
    path = write_jsonl(tmp_path / "bom.jsonl", records)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert validate_files([path]).ok
    process = cli("validate", "bom.jsonl")
    assert process.returncode == 0 and process.stdout.startswith("3 records")
    process = cli("evaluate", "bom.jsonl", "--model", "tfidf")
    assert process.returncode == 0, process.stderr
    process = cli("classify", "bom.jsonl", "--model", "tfidf", "--prefix", "predicted_")
    assert process.returncode == 0 and len(process.stdout.splitlines()) == 3


def test_near_duplicates_across_documents_are_reported(cli, tmp_path):
    base = "The United States designated the IRGC a foreign terrorist organisation in April 2019."
    write_jsonl(tmp_path / "near.jsonl", [
        make_record(1, text=base, doc_id="d1"),
        make_record(2, text=base.replace("in April 2019", "on 8 April 2019"), doc_id="d2"),
        make_record(3, text="Truck drivers went on strike in 160 cities over diesel prices.", doc_id="d3"),
        make_record(4, text="Truck drivers went on strike in 160 cities over diesel prices!", doc_id="d3")])
    process = cli("validate", "near.jsonl")
    assert process.returncode == 1
    problems = process.stdout.strip().splitlines()
    assert len(problems) == 1  # the pair inside one document is allowed
    assert problems[0].startswith("near.jsonl:2: text: near-duplicate of t-0001 (near.jsonl:1), similarity")
    assert cli("validate", "near.jsonl", "--similarity", "off").returncode == 0
    assert cli("validate", "near.jsonl", "--similarity", "0.99").returncode == 0


def test_identical_texts_need_identical_labels(tmp_path):
    path = write_jsonl(tmp_path / "same.jsonl", [
        make_record(1, text="Copyright 2020 All Rights Reserved", origin="seed", doc_id="s1"),
        make_record(2, text="Copyright 2020 All Rights Reserved", origin="seed", doc_id="s2"),
        make_record(3, text="Copyright  2020 All Rights Reserved", origin="seed", doc_id="s3",
                    stance="regime")])
    problems = validate_files([path], near_duplicate_threshold=0.75).problems
    assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [(3, "same text as t-0001"),
                                                                      (3, "same text as t-0002")]


def test_identical_texts_may_differ_when_two_annotators_labeled_them(tmp_path):
    text = "Truck drivers went on strike in 160 cities over diesel prices."
    path = write_jsonl(tmp_path / "double.jsonl", [
        make_record(1, text=text, claim_type="economic", annotator="ana"),
        make_record(2, text=text, claim_type="mobilization", annotator="ben"),
        make_record(3, text=text, claim_type="none", annotator="ben")])
    problems = validate_files([path], near_duplicate_threshold=0.75).problems
    assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [(3, "same text as t-0002")]


def test_secondary_claim_types_never_repeat_the_primary_or_hold_none(tmp_path):
    path = write_jsonl(tmp_path / "sec.jsonl", [
        make_record(1, claim_type="threat", secondary_claim_types=["threat"]),
        make_record(2, claim_type="threat", secondary_claim_types=["none"]),
        make_record(3, claim_type="threat", secondary_claim_types=["repression"])])
    problems = validate_files([path]).problems
    assert [(p.line, p.field) for p in problems] == [(1, "secondary_claim_types"), (2, "secondary_claim_types")]
