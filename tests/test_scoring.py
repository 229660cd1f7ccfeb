"""The scoring pipeline and the job core, called directly with the shipped TF-IDF model."""

from __future__ import annotations

import io
import json
import os

import pytest

from stancekit import load_model
from stancekit.data.segment import split_sentences
from stancekit.errors import InputError, OptionError
from stancekit.io.readers import BadRecord, BlankLine, InputRecord
from stancekit.jobs.job import ClassifyJob, JobSummary, check_job, job_fingerprint
from stancekit.jobs.local import run_job
from stancekit.jobs.scoring import (PREDICTION_FIELDS, ScoringPipeline, output_columns, prediction_sample,
                                    score_frame)

from conftest import write_jsonl

TEXTS = ["The judiciary hanged two protesters at dawn.", "Parliament meets on Sunday.",
         "Join the strike tomorrow! #IranProtests"]


@pytest.fixture(scope="module")
def model():
    return load_model("tfidf")


def record(line: int, text: str, **fields) -> InputRecord:
    return InputRecord("in.jsonl", line, {"text": text, **fields}, text)


def test_records_keep_their_fields_and_gain_predictions_and_provenance(model):
    pipeline = ScoringPipeline(model, prefix="p_")
    [batch] = list(pipeline.run([record(1, TEXTS[0], id=7), BlankLine("in.jsonl", 2), record(3, TEXTS[1])]))
    first = batch.records[0]
    assert list(first) == ["text", "id", *(f"p_{name}" for name in PREDICTION_FIELDS), "p_input_file", "p_input_line"]
    assert (first["id"], first["p_input_file"], first["p_input_line"]) == (7, "in.jsonl", 1)
    assert [r["p_input_line"] for r in batch.records] == [1, 3]
    assert (batch.counts.consumed, batch.counts.read, batch.counts.blank, batch.counts.written) == (3, 2, 1, 2)


def test_an_input_field_with_an_output_name_is_refused(model):
    with pytest.raises(InputError) as error:
        list(ScoringPipeline(model).run([record(4, TEXTS[0], stance="regime")]))
    assert str(error.value) == ("in.jsonl:4: stance: input field has the name of an output field; rename it, "
                                "or give the output fields a prefix (`prefix`)")
    assert error.value.spelled({"prefix": "--prefix"}).endswith("(--prefix)")


def test_documents_are_split_into_sentences_that_share_one_batch(model):
    document = " ".join(TEXTS)
    sentences = split_sentences(document)
    assert len(sentences) > 2
    pipeline = ScoringPipeline(model, split_sentences=True, batch_size=2)
    batches = list(pipeline.run([record(1, document), record(2, "   "), record(3, TEXTS[1])], first_document=10))
    assert [len(batch.records) for batch in batches] == [len(sentences), 1]  # the document's sentences together
    rows = [row for batch in batches for row in batch.records]
    assert [(row["document"], row["sentence"]) for row in rows] == [
        *((10, number) for number in range(len(sentences))), (12, 0)]
    assert [(row["start"], row["end"], row["text"]) for row in rows[:-1]] == [
        (sentence.start, sentence.end, sentence.text) for sentence in sentences]
    assert [batch.counts.empty_documents for batch in batches] == [0, 1]  # "   " has no sentence


def test_counts_of_truncated_out_of_scope_and_unreadable_records(model):
    bad = BadRecord(InputError("invalid JSON", path="in.jsonl", line=2), "{")
    items = [record(1, "strike " * 1000), bad, record(3, "مرگ بر دیکتاتور")]
    [batch] = list(ScoringPipeline(model).run(items))
    counts = batch.counts
    assert (counts.read, counts.skipped, counts.truncated, counts.out_of_scope, counts.written) == (2, 1, 1, 1, 2)
    assert batch.bad == [bad]


def test_output_columns_and_the_types_of_their_values(model):
    columns = output_columns(["id", "text"], model.classes_, prefix="p_", split_sentences=True)
    assert columns[:3] == ["id", "text", "p_stance"]
    assert columns[-6:] == ["p_input_file", "p_input_line", "p_document", "p_sentence", "p_start", "p_end"]
    assert "p_claim_score_none" in columns
    sample = prediction_sample(model.classes_, explain=True)
    assert (sample["stance"], sample["stance_score_regime"], sample["in_scope"], sample["evidence"]) == ("", 0.0,
                                                                                                       False, "")


def test_frames_are_checked_before_scoring(model):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"body": ["a", 3]})
    with pytest.raises(ValueError, match="no column 'text'"):
        score_frame(model, frame)
    with pytest.raises(TypeError, match="position 1 is of type int"):
        score_frame(model, frame, "body")
    with pytest.raises(ValueError, match="already has column.*stance"):
        score_frame(model, pandas.DataFrame({"text": ["a"], "stance": ["x"]}))


# jobs ---------------------------------------------------------------------------------------------

def test_the_summary_line_names_every_count_that_is_not_zero():
    assert JobSummary(output="out.jsonl", read=1, written=1).line() == "wrote 1 record to out.jsonl (1 input record)"
    summary = JobSummary(output="o", read=3, written=5, blank=1, skipped=2, truncated=1, out_of_scope=1,
                         empty_documents=2)
    assert summary.line() == ("wrote 5 records to o (3 input records, 1 blank line, 2 skipped, 1 truncated, "
                              "1 out of scope (not English), 2 documents without sentences)")


@pytest.mark.parametrize("options, engine, message", [
    ({"resume": True}, "local", "`resume` needs `output`"),
    ({"rejects": "r.jsonl", "output": "o.jsonl"}, "local", "`rejects` needs `skip_errors`"),
    ({"rejects": "r.jsonl", "skip_errors": True}, "local", "`rejects` needs `output`"),
    ({"output_format": "table", "output": "o.txt"}, "local", "`output_format` table writes to stdout only"),
    ({"split_sentences": True, "explain": True, "output": "o"}, "dask",
     "`split_sentences`, `explain`: not available on the dask engine"),
    ({}, "dask", "the dask engine writes a Parquet folder: give its path as `output`"),
])
def test_options_that_do_not_go_together_are_refused_by_name(tmp_path, options, engine, message):
    (tmp_path / "in.txt").write_text("x\n")
    with pytest.raises(OptionError, match=message):
        check_job(ClassifyJob(inputs=[str(tmp_path / "in.txt")], model="tfidf", **options), engine)


def test_stdin_cannot_be_resumed_or_sent_to_a_cluster():
    with pytest.raises(OptionError, match="`resume` cannot re-read stdin"):
        check_job(ClassifyJob(inputs=["-"], model="tfidf", output="o.jsonl", resume=True))
    with pytest.raises(OptionError, match="the dask engine cannot read stdin"):
        check_job(ClassifyJob(inputs=["-"], model="tfidf", output="o.parquet"), "dask")


def test_the_dask_engine_expands_globs_to_absolute_paths(tmp_path, monkeypatch):
    for name in ("b.jsonl", "a.jsonl"):
        (tmp_path / name).write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    inputs, formats = check_job(ClassifyJob(inputs=["*.jsonl"], model="tfidf", output="out.parquet"), "dask")
    assert inputs == [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")] and formats == ["jsonl", "jsonl"]
    with pytest.raises(InputError, match=r"\*.csv: no file matches"):
        check_job(ClassifyJob(inputs=["*.csv"], model="tfidf", output="out.parquet"), "dask")


def test_the_fingerprint_changes_with_the_model_the_options_and_the_inputs(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("one\n")
    job = ClassifyJob(inputs=[str(source)], model="tfidf", output="out.jsonl")
    model = ("tfidf", "2.0.0", "abc")
    first = job_fingerprint(job, job.inputs, ["txt"], model)
    assert job_fingerprint(job, job.inputs, ["txt"], model) == first
    assert job_fingerprint(job, job.inputs, ["txt"], ("tfidf", "2.0.0", "def"))["model"] != first["model"]
    job.prefix = "p_"
    assert job_fingerprint(job, job.inputs, ["txt"], model)["prefix"] == "p_"
    source.write_text("one\ntwo\n")
    os.utime(source, ns=(1, 1))
    assert job_fingerprint(job, job.inputs, ["txt"], model)["inputs"] != first["inputs"]
    assert job_fingerprint(job, job.inputs, ["txt"], model, engine="dask")["engine"] == "dask"


def test_a_job_writes_to_a_stream(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}, "", {"text": TEXTS[1]}])
    stream = io.StringIO()
    summary = run_job(ClassifyJob(inputs=[str(tmp_path / "in.jsonl")], model="tfidf", quiet=True), stream)
    assert [json.loads(line)["input_line"] for line in stream.getvalue().splitlines()] == [1, 3]
    assert summary.line() == "wrote 2 records to stdout (2 input records, 1 blank line)"


def test_a_job_that_fails_leaves_no_output(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}] * 300 + ["{bad"])
    job = ClassifyJob(inputs=[str(tmp_path / "in.jsonl")], model="tfidf", output=str(tmp_path / "out.jsonl"),
                      batch_size=100, quiet=True)
    with pytest.raises(InputError, match="in.jsonl:301: invalid JSON"):
        run_job(job, io.StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_job_counts_skipped_records_and_writes_them_to_the_rejects_file(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}, "{bad", {"body": "x"}, {"text": TEXTS[2]}])
    job = ClassifyJob(inputs=[str(tmp_path / "in.jsonl")], model="tfidf", output=str(tmp_path / "out.jsonl"),
                      skip_errors=True, rejects=str(tmp_path / "rejects.jsonl"), quiet=True)
    summary = run_job(job, io.StringIO())
    assert (summary.read, summary.skipped, summary.written) == (2, 2, 2)
    assert [bad.error.line for bad in summary.bad_records] == [2, 3]
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["raw"]) for r in rejects] == [(2, "{bad\n"), (3, '{"body": "x"}\n')]
