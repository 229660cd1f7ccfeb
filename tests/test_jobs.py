"""Batch jobs through the real CLI: data is never lost, mixed or silently dropped, and every
output record can be traced to its input."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys

from stancekit.jobs.local import INTERRUPT_HOOK

from conftest import cli_env, make_record, write_jsonl

TEXTS = ["The judiciary hanged two protesters at dawn.", "Parliament meets on Sunday.",
         "Join the strike tomorrow! #IranProtests"]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_output_that_is_an_input_is_refused_even_through_a_link(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in TEXTS])
    before = (tmp_path / "in.jsonl").read_bytes()
    os.symlink(tmp_path / "in.jsonl", tmp_path / "link.jsonl")
    for output in ("in.jsonl", "link.jsonl", "./in.jsonl"):
        process = cli("classify", "in.jsonl", "--model", "tfidf", "-o", output)
        assert process.returncode == 2, output
        assert "same file as in.jsonl" in process.stderr
        assert (tmp_path / "in.jsonl").read_bytes() == before
    process = cli("classify", "in.jsonl", "--model", "tfidf", "-o", "out.jsonl", "--skip-errors",
                  "--rejects", "in.jsonl")
    assert process.returncode == 2 and (tmp_path / "in.jsonl").read_bytes() == before


def _interrupted_job(tmp_path, *options: str) -> None:
    """Run a job that is killed once it has written 300 records (its batches are 256 records: the last
    checkpoint is at 256, the partial output runs past it)."""
    lines = [f"Item {i}: prices rose again as the rial fell for a {i}th day." for i in range(1000)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = subprocess.run([sys.executable, "-m", "stancekit", "classify", "in.txt", "-o", "out.jsonl", *options],
                         cwd=tmp_path, env=dict(cli_env(), **{INTERRUPT_HOOK: "KILL:300"}), capture_output=True)
    assert job.returncode == -signal.SIGKILL, job.stderr
    assert (tmp_path / "out.jsonl.progress").exists() and not (tmp_path / "out.jsonl").exists()


def test_resume_refuses_a_different_model_options_or_input(cli, tmp_path):
    _interrupted_job(tmp_path, "--model", "tfidf")
    partial = (tmp_path / "out.jsonl.partial").read_bytes()
    for extra, named in [(["--model", "ensemble"], "model"), (["--model", "tfidf", "--split-sentences"],
                                                            "split_sentences"),
                         (["--model", "tfidf", "--prefix", "p_"], "prefix")]:
        process = cli("classify", "in.txt", "-o", "out.jsonl", "--resume", *extra)
        assert process.returncode == 2, extra
        assert "cannot resume" in process.stderr and named in process.stderr
        assert (tmp_path / "out.jsonl.partial").read_bytes() == partial
    with open(tmp_path / "in.txt", "a", encoding="utf-8") as handle:
        handle.write("one more line\n")
    process = cli("classify", "in.txt", "-o", "out.jsonl", "--resume", "--model", "tfidf")
    assert process.returncode == 2 and "inputs" in process.stderr


def test_csv_output_keeps_fields_that_first_appear_late(cli, tmp_path):
    records = [{"text": TEXTS[0]}, {"text": TEXTS[1], "author": "late field"}, {"text": TEXTS[2], "n": 3}]
    write_jsonl(tmp_path / "in.jsonl", records)
    process = cli("classify", "in.jsonl", "--model", "tfidf", "-o", "out.csv")
    assert process.returncode == 0, process.stderr
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["author"] for row in rows] == ["", "late field", ""]
    assert rows[2]["n"] == "3"


def test_csv_from_stdin_with_a_late_field_fails_naming_it(cli):
    lines = "\n".join(json.dumps(r) for r in [{"text": "a"}, {"text": "b", "extra": 1}]) + "\n"
    process = cli("classify", "-", "--input-format", "jsonl", "--model", "tfidf", "--format", "csv",
                  stdin=lines)
    assert process.returncode == 2 and "extra" in process.stderr


def test_input_fields_are_never_overwritten_by_predictions(cli, tmp_path):
    write_jsonl(tmp_path / "gold.jsonl", [make_record(1, text=TEXTS[0], claim_type="repression")])
    process = cli("classify", "gold.jsonl", "--model", "tfidf", "-o", "out.jsonl")
    assert process.returncode == 2
    assert "gold.jsonl:1: stance: input field has the name of an output field" in process.stderr
    assert not (tmp_path / "out.jsonl").exists()
    process = cli("classify", "gold.jsonl", "--model", "tfidf", "-o", "out.jsonl", "--prefix", "pred_")
    assert process.returncode == 0, process.stderr
    row = read_jsonl(tmp_path / "out.jsonl")[0]
    assert row["claim_type"] == "repression" and row["stance"] == "neutral"
    assert row["pred_claim_type"] in row["pred_claim_scores"] and "pred_input_line" in row


def test_empty_input_warns_and_empty_evaluation_fails(cli, tmp_path):
    for name, content in [("empty.txt", ""), ("blank.txt", "\n\n"), ("empty.jsonl", ""), ("empty.csv", "text\n")]:
        (tmp_path / name).write_text(content, encoding="utf-8")
        process = cli("classify", name, "--model", "tfidf", "-o", "out.jsonl")
        assert process.returncode == 0, process.stderr
        assert "wrote 0 records to out.jsonl" in process.stderr
        assert "warning: no records written" in process.stderr
    process = cli("evaluate", "empty.jsonl", "--model", "tfidf")
    assert process.returncode == 2 and "nothing to evaluate" in process.stderr


def test_summary_reconciles_with_the_input_lines(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}, "", "{broken", {"text": "strike " * 5000}])
    process = cli("classify", "in.jsonl", "--model", "transformer", "-o", "out.jsonl", "--skip-errors")
    assert process.returncode == 0, process.stderr
    assert ("wrote 2 records to out.jsonl (2 input records, 1 blank line, 1 skipped, 1 truncated)"
            in process.stderr)


def test_broken_pipe_is_quiet(tmp_path):
    (tmp_path / "in.txt").write_text("\n".join(TEXTS * 20000) + "\n", encoding="utf-8")
    command = (f"{sys.executable} -m stancekit classify in.txt --model tfidf | head -n 1; "
               "echo status=${PIPESTATUS[0]}")
    process = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=cli_env(), capture_output=True,
                             text=True, timeout=300)
    assert len(process.stdout.splitlines()) == 2
    assert process.stderr == ""
    assert process.stdout.splitlines()[1] == f"status={128 + signal.SIGPIPE}"


def test_table_shows_the_chosen_text_field(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"body": "Parliament meets on Sunday."}])
    process = cli("classify", "in.jsonl", "--text-field", "body", "--model", "tfidf", "--format", "table")
    assert process.returncode == 0, process.stderr
    assert process.stdout.splitlines()[1].endswith("Parliament meets on Sunday.")


def test_interrupt_is_reported_once_and_keeps_what_resume_needs(tmp_path):
    lines = [f"Line {i} about the strikes in Abadan." for i in range(1000)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "stancekit", "classify", "in.txt", "--model", "tfidf", "--batch-size", "100",
               "-o", "out.jsonl"]
    # a test run started in the background inherits SIGINT ignored, and Python then installs no handler
    job = subprocess.run(command, cwd=tmp_path, env=dict(cli_env(), **{INTERRUPT_HOOK: "INT:500"}),
                         capture_output=True, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    assert job.returncode == 130
    assert job.stderr.count("interrupted") == 1
    assert "--resume to continue out.jsonl" in job.stderr
    assert json.loads((tmp_path / "out.jsonl.progress").read_text())["records_done"] == 500
    resumed = subprocess.run([*command, "--resume"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert [row["input_line"] for row in read_jsonl(tmp_path / "out.jsonl")] == list(range(1, 1001))


def test_every_output_record_names_its_file_line_and_document(cli, tmp_path):
    (tmp_path / "a.txt").write_text(f"{TEXTS[0]}\n\n{TEXTS[1]}\n", encoding="utf-8")
    write_jsonl(tmp_path / "b.jsonl", [{"text": f"{TEXTS[0]} {TEXTS[1]}"}])
    process = cli("classify", "a.txt", "b.jsonl", "--model", "tfidf", "--split-sentences")
    assert process.returncode == 0, process.stderr
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    assert [(r["input_file"], r["input_line"], r["document"], r["sentence"]) for r in rows] == [
        ("a.txt", 1, 0, 0), ("a.txt", 3, 2, 0), ("b.jsonl", 1, 3, 0), ("b.jsonl", 1, 3, 1)]


OUTPUT_COMMANDS = [
    ["evaluate", "g.jsonl", "-m", "tfidf", "--report", "{out}"],
    ["evaluate", "g.jsonl", "-m", "tfidf", "--json", "{out}"],
    ["evaluate", "g.jsonl", "-m", "tfidf", "--plot", "{out}"],
    ["evaluate", "g.jsonl", "-m", "tfidf", "--plot-scores", "{out}"],
    ["evaluate", "g.jsonl", "-m", "tfidf", "--splits", "splits.json", "--json", "{out}"],
    ["train", "--model", "tfidf", "--data", "g.jsonl", "--out", "{out}"],
    ["train", "--model", "tfidf", "--data", "g.jsonl", "--splits", "splits.json", "--out", "{out}"],
    ["classify", "g.jsonl", "-m", "tfidf", "-o", "{out}"],
    ["classify", "g.jsonl", "-m", "tfidf", "--engine", "dask", "-o", "{out}"],
    ["report", "g.jsonl", "-m", "tfidf", "-o", "{out}"],
]


def test_no_command_writes_over_one_of_its_inputs(cli, tmp_path):
    """Every command that writes a file refuses an output that is one of its inputs, however it is spelled."""
    write_jsonl(tmp_path / "g.jsonl", [make_record(i, text=text) for i, text in enumerate(TEXTS)])
    (tmp_path / "splits.json").write_text(json.dumps({"splits": {"train": [], "dev": [], "test": ["doc-1"]}}))
    os.symlink(tmp_path / "g.jsonl", tmp_path / "link.jsonl")
    os.link(tmp_path / "g.jsonl", tmp_path / "hard.jsonl")
    os.symlink(tmp_path / "splits.json", tmp_path / "splits-link.json")
    inputs = {name: (tmp_path / name).read_bytes() for name in ("g.jsonl", "splits.json")}
    for number, command in enumerate(OUTPUT_COMMANDS):
        spellings = ["g.jsonl", "./g.jsonl", "link.jsonl", "hard.jsonl"]
        if "splits.json" in command:
            spellings = ["splits.json", "splits-link.json"]
        elif number:  # the command tries every spelling, the others one each
            spellings = [spellings[number % len(spellings)]]
        for out in spellings:
            args = [arg.format(out=out) for arg in command]
            process = cli(*args)
            assert process.returncode == 2, (args, process.stderr)
            assert "same file as" in process.stderr and len(process.stderr.splitlines()) == 1, (args, process.stderr)
            assert {name: (tmp_path / name).read_bytes() for name in inputs} == inputs, args


def test_rejects_without_an_output_file_is_refused_on_both_engines(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": TEXTS[0]}, "{broken"])
    for engine in ("local", "dask"):
        process = cli("classify", "in.jsonl", "-m", "tfidf", "--skip-errors", "--rejects", "rejects.jsonl",
                      "--engine", engine)
        assert process.returncode == 2, (engine, process.stderr)
        assert "--rejects" in process.stderr and len(process.stderr.splitlines()) == 1, process.stderr
        assert process.stdout == "" and not (tmp_path / "rejects.jsonl").exists()


def test_truncated_articles_suggest_splitting_sentences_once(cli, tmp_path):
    article = " ".join(["Officials said the talks in Vienna would resume next week after a short pause."] * 80)
    write_jsonl(tmp_path / "articles.jsonl", [{"text": article}] * 3 + [{"text": TEXTS[0]}])
    process = cli("classify", "articles.jsonl", "-m", "tfidf", "-o", "out.jsonl")
    assert process.returncode == 0, process.stderr
    warnings = [line for line in process.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "3 of 4 texts" in warnings[0] and "--split-sentences" in warnings[0]
    split = cli("classify", "articles.jsonl", "-m", "tfidf", "-o", "out.jsonl", "--split-sentences")
    assert split.returncode == 0 and "warning" not in split.stderr and "truncated" not in split.stderr
    write_jsonl(tmp_path / "posts.jsonl", [{"text": article}] + [{"text": TEXTS[0]}] * 19)
    few = cli("classify", "posts.jsonl", "-m", "tfidf", "-o", "out.jsonl")
    assert few.returncode == 0 and "1 truncated" in few.stderr and "warning" not in few.stderr


def test_table_names_the_source_of_each_row_when_several_are_scored(cli, tmp_path):
    (tmp_path / "a.txt").write_text(f"{TEXTS[0]}\n{TEXTS[1]}\n", encoding="utf-8")
    write_jsonl(tmp_path / "b.jsonl", [{"text": f"{TEXTS[0]} {TEXTS[1]}"}, {"text": TEXTS[0]}])
    def sources(*args: str) -> list[tuple[str, str]]:
        process = cli("classify", *args, "-m", "tfidf", "--format", "table")
        assert process.returncode == 0, process.stderr
        header, *rows = process.stdout.splitlines()
        assert header.split()[-2:] == ["source", "text"]
        column = header.index("source")
        return [(row[column:].split(maxsplit=1)[0], row[column:].split(maxsplit=1)[1]) for row in rows]

    assert sources("a.txt", "b.jsonl") == [("a.txt:1", TEXTS[0]), ("a.txt:2", TEXTS[1]),
                                          ("b.jsonl:1", f"{TEXTS[0]} {TEXTS[1]}"), ("b.jsonl:2", TEXTS[0])]
    assert sources("b.jsonl", "--split-sentences") == [("b.jsonl:1", TEXTS[0]), ("b.jsonl:1", TEXTS[1]),
                                                      ("b.jsonl:2", TEXTS[0])]
    single = cli("classify", "a.txt", "-m", "tfidf", "--format", "table")
    assert single.returncode == 0 and "source" not in single.stdout.splitlines()[0]
