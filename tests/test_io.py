"""Readers, writers and resumable output on the edge cases of real files."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from stancekit.errors import InputError
from stancekit.io.lines import iter_jsonl, read_json_lines, read_lines
from stancekit.io.outputs import check_distinct_paths
from stancekit.io.readers import (BadRecord, BlankLine, InputRecord, input_columns, input_format, read_csv,
                                  read_inputs, read_jsonl, read_parquet, read_txt)
from stancekit.io.resumable import ResumableOutput
from stancekit.io.writers import CsvWriter, JsonLinesWriter, flatten_for_csv, output_format

BOM = b"\xef\xbb\xbf"


def write(tmp_path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def kinds(items) -> list:
    """Each item as (kind, line, text or error reason)."""
    described = []
    for item in items:
        if isinstance(item, InputRecord):
            described.append(("record", item.line, item.text))
        elif isinstance(item, BlankLine):
            described.append(("blank", item.line, None))
        else:
            described.append(("bad", item.error.line, item.error.reason))
    return described


# the line reader ----------------------------------------------------------------------------------

def test_lines_keep_their_endings_and_lose_only_a_leading_byte_order_mark(tmp_path):
    path = write(tmp_path, "a.txt", BOM + b"one\r\ntwo\n" + BOM + b"three")
    assert list(read_lines(path)) == ["one\r\n", "two\n", "\ufeffthree"]


@pytest.mark.parametrize("content, message", [
    (b"fine\nbin\x00ary\n", "a.txt:2: binary data (NUL byte): not a text file"),
    (b"fine\nok\ncaf\xe9\n", "a.txt:3: invalid UTF-8 at byte 3 of the line"),
])
def test_binary_data_and_invalid_utf8_name_the_line(tmp_path, content, message):
    path = write(tmp_path, "a.txt", content)
    with pytest.raises(InputError) as error:
        list(read_lines(path))
    assert str(error.value).endswith(message)


def test_missing_files_and_folders_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="missing.txt: cannot read file"):
        list(read_lines(str(tmp_path / "missing.txt")))
    with pytest.raises(InputError, match="is a directory"):
        list(read_lines(str(tmp_path)))


def test_a_span_reads_the_lines_that_begin_in_its_bytes(tmp_path):
    path = write(tmp_path, "a.jsonl", b'{"text": "a"}\n{"text": "b"}\n\n{"text": "c"}\n')
    second = len(b'{"text": "a"}\n')
    assert [item.line for item in read_jsonl(path, "text", (second, second + 1, 2))] == [2]
    assert kinds(read_jsonl(path, "text", (second, 100, 2))) == [("record", 2, "b"), ("blank", 3, None),
                                                                 ("record", 4, "c")]
    assert [number for number, _ in read_json_lines(path, (second, 100, 2))] == [2, 4]


def test_strict_json_lines_stop_at_the_first_bad_line(tmp_path):
    path = write(tmp_path, "a.jsonl", b'{"a": 1}\n\n[2]\n{oops\n')
    with pytest.raises(InputError, match=r"a.jsonl:4: invalid JSON"):
        list(iter_jsonl(path))
    assert list(iter_jsonl(write(tmp_path, "b.jsonl", BOM + b'{"a": 1}\r\n'))) == [(1, {"a": 1})]


# readers ------------------------------------------------------------------------------------------

def test_text_files_give_one_record_per_line(tmp_path):
    path = write(tmp_path, "a.txt", BOM + b"first\r\n\r\n  \nsecond")
    assert kinds(read_txt(path, "text")) == [("record", 1, "first"), ("blank", 2, None), ("blank", 3, None),
                                             ("record", 4, "second")]
    assert list(read_txt(write(tmp_path, "empty.txt", b""), "text")) == []


def test_json_lines_records_and_their_errors(tmp_path):
    path = write(tmp_path, "a.jsonl", BOM + b'{"text": "ok", "n": 1}\r\n\n{bad\n[1]\n{"body": "x"}\n{"text": 3}\n')
    assert kinds(read_jsonl(path, "text")) == [
        ("record", 1, "ok"), ("blank", 2, None), ("bad", 3, "invalid JSON: Expecting property name enclosed in "
                                                            "double quotes (column 2)"),
        ("bad", 4, "expected a JSON object, got list"),
        ("bad", 5, "missing text field (choose the field with `text_field`)"), ("bad", 6, "must be a string, not int")]
    first = next(read_jsonl(path, "text"))
    assert first.fields == {"text": "ok", "n": 1}
    missing = list(read_jsonl(path, "text"))[4]
    assert missing.error.field == "text" and missing.raw == '{"body": "x"}\n'


def test_csv_quoted_fields_may_span_lines_and_use_windows_endings(tmp_path):
    content = BOM + b'id,text\r\n1,"two\r\nlines, and a comma"\r\n\r\n2,plain\r\n3,"say ""hi"""\r\n'
    items = list(read_csv(write(tmp_path, "a.csv", content), "text"))
    assert kinds(items) == [("record", 3, "two\r\nlines, and a comma"), ("blank", 4, None),
                            ("record", 5, "plain"), ("record", 6, 'say "hi"')]
    assert items[0].fields == {"id": "1", "text": "two\r\nlines, and a comma"}


def test_csv_rows_of_the_wrong_width_and_files_without_rows(tmp_path):
    items = list(read_csv(write(tmp_path, "a.csv", b"id,text\n1,ok\n2,too,many\n"), "text"))
    assert kinds(items) == [("record", 2, "ok"), ("bad", 3, "expected 2 columns, found 3")]
    assert list(read_csv(write(tmp_path, "header.csv", b"text\n"), "text")) == []
    assert list(read_csv(write(tmp_path, "empty.csv", b""), "text")) == []
    with pytest.raises(InputError, match=r"b.csv:1: text: no column 'text' in the CSV header \(columns: id, body\)"):
        list(read_csv(write(tmp_path, "b.csv", b"id,body\n1,x\n"), "text"))


def test_parquet_rows_are_numbered_from_one(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["a", None, "c"], "n": [1, 2, 3]}), tmp_path / "a.parquet", row_group_size=2)
    items = list(read_parquet(str(tmp_path / "a.parquet"), "text"))
    assert kinds(items) == [("record", 1, "a"), ("bad", 2, "missing text field (choose the field with `text_field`)"),
                            ("record", 3, "c")]
    assert json.loads(items[1].raw) == {"text": None, "n": 2}
    assert kinds(read_parquet(str(tmp_path / "a.parquet"), "text", (1, 2, 3))) == [("record", 3, "c")]
    with pytest.raises(InputError, match="no column 'body' in the Parquet file"):
        list(read_parquet(str(tmp_path / "a.parquet"), "body"))


def test_errors_raise_unless_skipped(tmp_path):
    path = write(tmp_path, "a.jsonl", b'{"text": "a"}\n{bad\n{"text": "c"}\n')
    with pytest.raises(InputError, match="a.jsonl:2: invalid JSON"):
        list(read_inputs(path, "jsonl"))
    assert [type(item) for item in read_inputs(path, "jsonl", skip_errors=True)] == [InputRecord, BadRecord,
                                                                                     InputRecord]


def test_input_formats_by_extension(tmp_path):
    for name, fmt in [("a.TXT", "txt"), ("a.json", "jsonl"), ("a.jsonl", "jsonl"), ("a.csv", "csv"),
                      ("a.parquet", "parquet")]:
        assert input_format(write(tmp_path, name, b"")) == fmt
    assert input_format("-") == "txt" and input_format("-", "jsonl") == "jsonl"
    with pytest.raises(InputError) as error:
        input_format(write(tmp_path, "a.tsv", b""))
    assert error.value.spelled({"input_format": "--input-format"}).endswith(
        "cannot tell the input format from the extension '.tsv'; give it as --input-format (txt, jsonl, csv, parquet)")
    with pytest.raises(InputError, match="no such file"):
        input_format(str(tmp_path / "missing.txt"))


def test_columns_of_json_lines_in_order_of_first_appearance(tmp_path):
    path = write(tmp_path, "a.jsonl", b'{"text": "a"}\n{"text": "b", "late": 1}\n{"id": 3, "text": "c"}\n')
    assert input_columns(path, "jsonl", "text") == ["text", "late", "id"]
    assert input_columns(write(tmp_path, "a.csv", b"id,text\n"), "csv", "text") == ["id", "text"]
    assert input_columns(write(tmp_path, "a.txt", b"x\n"), "txt", "body") == ["body"]


# writers ------------------------------------------------------------------------------------------

RECORD = {"text": "Tehran, 2024 — «quote»", "stance": "neutral", "stance_scores": {"regime": 0.25, "neutral": 0.75},
          "evidence": {"stance": [{"start": 0, "end": 6}]}}


def test_json_lines_keep_text_as_it_is():
    stream = io.StringIO()
    JsonLinesWriter(stream).write([RECORD, {"text": "second"}])
    lines = stream.getvalue().splitlines()
    assert "—" in lines[0] and [json.loads(line) for line in lines] == [RECORD, {"text": "second"}]


def test_csv_flattens_scores_and_fills_missing_fields():
    assert flatten_for_csv(RECORD) == {"text": RECORD["text"], "stance": "neutral", "stance_score_regime": 0.25,
                                       "stance_score_neutral": 0.75, "evidence": '{"stance": [{"start": 0, "end": 6}]}'}
    stream = io.StringIO()
    writer = CsvWriter(stream, columns=["id", "text", "stance"])
    writer.write([{"text": "a,b", "stance": "x"}])
    writer.write([{"id": 2, "text": "line\nbreak", "stance": "y"}])
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert rows == [{"id": "", "text": "a,b", "stance": "x"}, {"id": "2", "text": "line\nbreak", "stance": "y"}]


def test_csv_refuses_a_field_outside_its_columns_and_writes_no_header_when_continuing():
    stream = io.StringIO()
    with pytest.raises(InputError, match="late"):
        CsvWriter(stream, columns=["text"]).write([{"text": "a"}, {"text": "b", "late": 1}])
    stream = io.StringIO()
    CsvWriter(stream, columns=["text"], write_header=False).write([{"text": "a"}])
    assert stream.getvalue() == "a\n"


def test_output_formats_by_extension():
    assert [output_format(path) for path in (None, "-", "out.CSV", "out.jsonl", "out.txt")] == [
        "jsonl", "jsonl", "csv", "jsonl", "jsonl"]
    assert output_format("out.csv", "table") == "table"


# resumable output and the output check ----------------------------------------------------------

def open_output(tmp_path, resume=False, job=None, rejects=None):
    return ResumableOutput(tmp_path / "out.jsonl", lambda stream, header: JsonLinesWriter(stream), resume,
                           rejects, job=job or {"model": ["m", "1", "abc"]})


def test_output_appears_only_when_committed(tmp_path):
    out = open_output(tmp_path)
    out.writer.write([{"n": 1}])
    out.checkpoint(1)
    assert not (tmp_path / "out.jsonl").exists()
    assert json.loads((tmp_path / "out.jsonl.progress").read_text())["records_done"] == 1
    out.commit()
    assert (tmp_path / "out.jsonl").read_text() == '{"n": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_resume_cuts_the_output_back_to_its_last_checkpoint(tmp_path):
    out = open_output(tmp_path, rejects=tmp_path / "rejects.jsonl")
    out.writer.write([{"n": 1}, {"n": 2}])
    out.checkpoint(2)
    out.writer.write([{"n": 3}])  # written after the checkpoint, then interrupted
    out.stream.flush()
    out.close()
    resumed = open_output(tmp_path, resume=True, rejects=tmp_path / "rejects.jsonl")
    assert resumed.progress.records_done == 2
    resumed.writer.write([{"n": 3}, {"n": 4}])
    resumed.commit()
    assert [json.loads(line)["n"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [1, 2, 3, 4]
    assert (tmp_path / "rejects.jsonl").read_text() == ""


def test_resume_refuses_another_job_naming_what_differs(tmp_path):
    out = open_output(tmp_path, job={"model": ["m", "1", "abc"], "prefix": ""})
    out.checkpoint(0)
    out.close()
    with pytest.raises(InputError) as error:
        open_output(tmp_path, resume=True, job={"model": ["m", "1", "def"], "prefix": "p_"})
    message = error.value.spelled({"resume": "--resume"})
    assert "differs from the interrupted one in model, prefix" in message and "without --resume" in message
    (tmp_path / "out.jsonl.progress").write_text("{broken")
    with pytest.raises(InputError, match="unreadable progress file"):
        open_output(tmp_path, resume=True)


def test_a_resume_without_a_partial_output_starts_afresh(tmp_path):
    out = open_output(tmp_path, resume=True)
    assert out.progress.records_done == 0
    out.discard()
    assert list(tmp_path.iterdir()) == []


def test_an_output_is_never_one_of_the_inputs(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("{}\n")
    os.symlink(source, tmp_path / "link.jsonl")
    os.link(source, tmp_path / "hard.jsonl")
    for output in ("in.jsonl", "link.jsonl", "hard.jsonl"):
        with pytest.raises(InputError, match=f"{output}: output is the same file as"):
            check_distinct_paths([str(source)], [str(tmp_path / output)])
    with pytest.raises(InputError, match="same file as"):
        check_distinct_paths([str(source)], [str(tmp_path / "new.jsonl"), str(tmp_path / "." / "new.jsonl")])
    check_distinct_paths(["-", str(source)], ["-", None, str(tmp_path / "new.jsonl")])
