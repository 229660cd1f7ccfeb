"""`stancekit validate`: one line per problem (FILE:LINE: FIELD: message), exit 1; summary and exit 0 when valid."""

from __future__ import annotations

import pytest

from stancekit.data import validate_files

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
