"""The command line, run as real subprocesses: classify, bad input, resume, train, info."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stancekit.artifacts import shipped_models
from stancekit.jobs.local import INTERRUPT_HOOK
from stancekit.registry import DEFAULT_MODEL

from conftest import SEEDS_DIR, cli_env, make_record, write_jsonl

PREDICTION_FIELDS = {"stance", "stance_confidence", "stance_scores", "claim_type", "claim_confidence",
                     "claim_scores", "model", "model_version", "truncated"}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_classify_txt_to_stdout_jsonl(cli, tmp_path):
    (tmp_path / "in.txt").write_text("First text.\n\nSecond text about the IRGC.\n", encoding="utf-8")
    process = cli("classify", "in.txt", "--model", "tfidf")
    assert process.returncode == 0, process.stderr
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["First text.", "Second text about the IRGC."]
    assert all(PREDICTION_FIELDS <= set(r) for r in rows)
    # no progress bar when stderr is not a terminal: only the closing summary
    assert process.stderr == "stancekit: wrote 2 records to stdout (2 input records, 1 blank line)\n"


def test_classify_jsonl_keeps_every_input_field_and_writes_csv(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"id": 7, "body": "Strikes spread to the oil sector.", "extra": {"a": 1}}])
    process = cli("classify", "in.jsonl", "--text-field", "body", "--model", "tfidf", "-o", "out.csv")
    assert process.returncode == 0, process.stderr
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["id"] == "7" and rows[0]["body"] == "Strikes spread to the oil sector."
    assert json.loads(rows[0]["extra"]) == {"a": 1}
    assert {"stance", "claim_type", "stance_score_regime", "claim_score_none"} <= set(rows[0])


def test_classify_csv_and_stdin(cli, tmp_path):
    (tmp_path / "in.csv").write_text('id,text\n1,"Quoted, with comma."\n2,Plain\n', encoding="utf-8")
    process = cli("classify", "in.csv", "--model", "tfidf", "-o", "out.jsonl")
    assert process.returncode == 0, process.stderr
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [(r["id"], r["text"]) for r in rows] == [("1", "Quoted, with comma."), ("2", "Plain")]
    process = cli("classify", "-", "--model", "tfidf", stdin="from stdin\n")
    assert process.returncode == 0 and json.loads(process.stdout)["text"] == "from stdin"


def test_split_sentences_gives_offsets_into_the_document(cli, tmp_path):
    document = (SEEDS_DIR / "000_db5ac95eb678dd80.txt").read_text(encoding="utf-8")
    write_jsonl(tmp_path / "doc.jsonl", [{"doc": "a", "text": document}])
    process = cli("classify", "doc.jsonl", "--split-sentences", "--model", "tfidf")
    assert process.returncode == 0, process.stderr
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    assert len(rows) > 15
    assert [r["sentence"] for r in rows] == list(range(len(rows)))
    for row in rows:
        assert row["doc"] == "a"
        assert document[row["start"]:row["end"]] == row["text"]


def test_table_format_is_readable(cli, tmp_path):
    (tmp_path / "in.txt").write_text("One sentence.\n", encoding="utf-8")
    process = cli("classify", "in.txt", "--model", "tfidf", "--format", "table")
    lines = process.stdout.splitlines()
    assert lines[0].split()[:2] == ["stance", "conf"]
    assert lines[1].endswith("One sentence.")


@pytest.mark.parametrize("name, content, where", [
    ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "bad.jsonl:2: invalid JSON"),
    ("bad.jsonl", b'{"text": "ok"}\n{"body": "no text"}\n', "bad.jsonl:2: text: missing text field"),
    ("bad.jsonl", b'{"text": "ok"}\n[1, 2]\n', "bad.jsonl:2: expected a JSON object"),
    ("bad.csv", b"id,body\n1,hello\n", "bad.csv:1: text: no column 'text'"),
    ("bad.txt", b"fine\ncaf\xe9\n", "bad.txt:2: invalid UTF-8"),
    ("bad.txt", b"\x00\x01\x02binary\n", "bad.txt:1: binary data"),
])
def test_bad_input_is_one_line_exit_2_and_no_output(cli, tmp_path, name, content, where):
    (tmp_path / name).write_bytes(content)
    process = cli("classify", name, "--model", "tfidf", "-o", "out.jsonl")
    assert process.returncode == 2
    assert process.stderr.strip() == process.stderr.strip().splitlines()[0]
    assert process.stderr.startswith("stancekit: error: ")
    assert where in process.stderr
    assert "Traceback" not in process.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_unreadable_paths_and_unknown_model(cli, tmp_path):
    (tmp_path / "folder").mkdir()
    for args, words in [(["missing.txt"], "missing.txt: no such file"),
                        (["folder"], "folder: is a directory"),
                        (["in.txt", "--model", "nonesuch"], "unknown model 'nonesuch'")]:
        (tmp_path / "in.txt").write_text("x\n")
        process = cli("classify", *args, "--model", "tfidf") if "--model" not in args else cli("classify", *args)
        assert process.returncode == 2, args
        assert process.stderr.startswith("stancekit: error: ") and words in process.stderr
        assert "Traceback" not in process.stderr


def test_library_errors_name_arguments_and_the_cli_names_its_flags(cli, tmp_path):
    from stancekit.errors import OptionError
    from stancekit.jobs.job import ClassifyJob, check_job

    (tmp_path / "in.txt").write_text("x\n")
    with pytest.raises(OptionError) as error:
        check_job(ClassifyJob(inputs=[str(tmp_path / "in.txt")], model="tfidf", output="out.txt", output_format="table"))
    assert str(error.value) == ("`output_format` table writes to stdout only; leave out `output` or choose jsonl "
                                "or csv")
    process = cli("classify", "in.txt", "-m", "tfidf", "--format", "table", "-o", "out.txt")
    assert process.stderr == ("stancekit: error: --format table writes to stdout only; leave out --output or "
                              "choose jsonl or csv\n")
    process = cli("classify", "in.txt", "-m", "tfidf", "--resume")
    assert process.stderr == "stancekit: error: --resume needs --output: a job writing to stdout cannot be resumed\n"
    bad = [make_record(1), make_record(2, stance="royalist"), make_record(3, claim_type="none ")]
    write_jsonl(tmp_path / "bad.jsonl", bad)
    process = cli("evaluate", "bad.jsonl", "-m", "tfidf")
    assert process.returncode == 2 and "(and 1 more problems; 'stancekit validate' lists them all)" in process.stderr


def test_debug_shows_the_traceback(cli, tmp_path):
    process = cli("classify", "missing.txt", "--model", "tfidf", "--debug")
    assert process.returncode != 0 and "Traceback" in process.stderr


def test_skip_errors_reports_and_writes_rejects(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": "good one"}, "{broken", {"other": 1}, {"text": "good two"}])
    process = cli("classify", "in.jsonl", "--model", "tfidf", "-o", "out.jsonl", "--skip-errors",
                  "--rejects", "rejects.jsonl")
    assert process.returncode == 0, process.stderr
    assert [r["text"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["good one", "good two"]
    assert "skipped 2 bad record(s): in.jsonl:2, in.jsonl:3" in process.stderr
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    assert [r["line"] for r in rejects] == [2, 3]
    assert rejects[0]["raw"].startswith("{broken")


def test_killed_job_resumes_without_losing_or_duplicating(tmp_path):
    lines = [f"Record {i}: the rial fell again as strikes spread to refinery number {i % 97}." for i in range(6000)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = [sys.executable, "-m", "stancekit", "classify", "in.txt", "--model", "tfidf", "--batch-size", "200"]
    complete = subprocess.run(base + ["-o", "full.jsonl"], cwd=tmp_path, env=cli_env(), capture_output=True)
    assert complete.returncode == 0, complete.stderr

    # killed once 2000 records are written, before their checkpoint: the partial output runs past it
    killed = subprocess.run(base + ["-o", "out.jsonl"], cwd=tmp_path, capture_output=True,
                            env=dict(cli_env(), **{INTERRUPT_HOOK: "KILL:2000"}))
    assert killed.returncode == -signal.SIGKILL
    progress = tmp_path / "out.jsonl.progress"
    assert not (tmp_path / "out.jsonl").exists()
    assert json.loads(progress.read_text())["records_done"] == 1800
    assert (tmp_path / "out.jsonl.partial").read_text().count("\n") == 2000

    resumed = subprocess.run(base + ["-o", "out.jsonl", "--resume"], cwd=tmp_path, env=cli_env(),
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed after 1800 input records" in resumed.stderr
    assert (tmp_path / "out.jsonl").read_text() == (tmp_path / "full.jsonl").read_text()
    assert not (tmp_path / "out.jsonl.partial").exists() and not progress.exists()


def test_train_tfidf_then_classify_with_the_saved_folder(cli, tmp_path):
    texts = {("regime", "glorification"): "The martyr commander lives on in the hearts of the nation {}.",
             ("opposition", "repression"): "The regime executed another protester in prison {}.",
             ("neutral", "none"): "The meeting is scheduled for Sunday morning in room {}."}
    records = [make_record(i * 10 + j, text=text.format(i), stance=stance, claim_type=claim,
                           doc_id=f"doc-{i}")
               for i in range(12) for j, ((stance, claim), text) in enumerate(texts.items())]
    data = write_jsonl(tmp_path / "train.jsonl", records)
    process = cli("train", "--model", "tfidf", "--data", data, "--out", tmp_path / "model", "--quiet",
                  "--param", "min_df=1")
    assert process.returncode == 0, process.stderr
    assert "saved to" in process.stdout
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["kind"] == "tfidf" and config["held_out"]["test"]["stance"]["macro_f1"] >= 0
    assert (tmp_path / "model" / "MODEL_CARD.md").exists()
    (tmp_path / "in.txt").write_text("The regime executed a protester in prison 99.\n")
    process = cli("classify", "in.txt", "--model", tmp_path / "model")
    row = json.loads(process.stdout)
    assert (row["stance"], row["claim_type"]) == ("opposition", "repression")


def test_info_lists_models_and_scheme(cli):
    process = cli("info")
    assert process.returncode == 0, process.stderr
    assert "label scheme 1.0" in process.stdout
    lines = process.stdout.splitlines()
    for name, folder in shipped_models().items():
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        default = " (default)" if name == DEFAULT_MODEL else ""
        assert any(line.startswith(f"  {name}{default}: {config['kind']} {config['version']}, scheme 1.0")
                   for line in lines), name
    assert set(shipped_models()) == {"accurate", "distilled", "ensemble", "tfidf", "transformer"}
    assert "stance: regime, opposition, neutral" in process.stdout
    assert "test: stance macro-F1 0." in process.stdout


def test_help_and_module_entry_point(cli):
    process = cli("--help")
    assert process.returncode == 0
    for command in ("classify", "evaluate", "train", "validate", "info"):
        assert command in process.stdout


README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_option_of_every_command_is_in_the_readme():
    from stancekit.cli import build_parser

    readme = README.read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [f"{name} {action.option_strings[-1]}" for name, command in commands.items()
               for action in command._actions if action.option_strings
               and not any(re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", readme)
                           for option in action.option_strings)]
    assert missing == []


def test_the_readme_closing_line_example_is_what_such_a_job_prints(cli, tmp_path):
    """A job with the counts of the README's example prints the README's line."""
    readme = " ".join(README.read_text(encoding="utf-8").split())
    example = re.search(r"`(stancekit: wrote (\d+) records to out\.jsonl \((\d+) input records, (\d+) blank line, "
                        r"(\d+) skipped, (\d+) truncated, (\d+) out of scope \(not English\)\))`", readme)
    assert example, "no closing-line example in README.md"
    read, blank, skipped, truncated, foreign = map(int, example.groups()[2:])
    lines = ([json.dumps({"text": "مرگ بر دیکتاتور"})] * foreign
             + [json.dumps({"text": "The strike goes on. " * 300})] * truncated
             + [json.dumps({"text": f"Parliament meets on day {i}."}) for i in range(read - foreign - truncated)]
             + [""] * blank + ["{broken"] * skipped)
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = cli("classify", "in.jsonl", "-m", "tfidf", "-o", "out.jsonl", "--skip-errors")
    assert process.returncode == 0, process.stderr
    assert example.group(1) in process.stderr.splitlines()


def test_help_says_how_each_command_reads_a_txt_file(cli):
    classify_help = " ".join(cli("classify", "--help").stdout.split())
    report_help = " ".join(cli("report", "--help").stdout.split())
    assert ".txt: one text per line" in classify_help and "that 'stancekit report' shows for it" in classify_help
    assert ".txt file: one document" in report_help and "reads a .txt file as one text per line" in report_help
