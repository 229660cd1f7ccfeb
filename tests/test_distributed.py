"""Scoring on a real local Dask cluster (2 worker processes): the same values as one machine,
no record lost or repeated when a worker dies, and reruns that skip finished partitions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import cloudpickle  # noqa: E402
from distributed import Client, WorkerPlugin  # noqa: E402

from conftest import cli_env, write_jsonl  # noqa: E402
from stancekit.cli import main  # noqa: E402
from stancekit.jobs.dask_engine import local_cluster, run_dask_job  # noqa: E402
from stancekit.jobs.job import ClassifyJob  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this module


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as cluster, Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def texts():
    from stancekit.data import corpus_files
    from stancekit.io.lines import iter_jsonl

    return [record["text"] for path in corpus_files() for _, record in iter_jsonl(path)][:600]


def write_input(folder: Path, texts: list[str]) -> Path:
    """JSON Lines with extra fields of several types and a blank line every 50 records."""
    lines = []
    for index, text in enumerate(texts):
        lines.append(json.dumps({"id": f"r{index}", "text": text, "n": index if index % 3 else None}))
        if index % 50 == 49:
            lines.append("")
    return write_jsonl(folder / "in.jsonl", lines)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_same_predictions(rows: list[dict], expected: list[dict]) -> None:
    """Same records in the same order: same labels and lines, scores within 1e-6."""
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected):
        assert (row["input_line"], row["stance"], row["claim_type"]) == \
            (want["input_line"], want["stance"], want["claim_type"])
        for task in ("stance", "claim"):
            for label, score in want[f"{task}_scores"].items():
                assert abs(row[f"{task}_score_{label}"] - score) < 1e-6


def parquet_rows(folder: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(folder).to_pylist()


def test_cli_on_a_cluster_matches_single_machine_classify(client, texts, tmp_path, monkeypatch):
    write_input(tmp_path, texts)
    monkeypatch.chdir(tmp_path)
    common = ["classify", "in.jsonl", "--model", "tfidf"]
    assert main([*common, "-o", "single.jsonl", "--quiet"]) == 0
    dask = subprocess.run([sys.executable, "-m", "stancekit", *common, "--engine", "dask", "--scheduler", client.scheduler.address,
                           "--blocksize", "20000", "-o", "out.parquet"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True)
    assert dask.returncode == 0, dask.stderr
    assert "wrote 600 records to out.parquet (600 input records, 12 blank lines)" in dask.stderr
    parts = sorted(p.name for p in (tmp_path / "out.parquet").glob("part-*.parquet"))
    assert len(parts) > 3
    rows, expected = parquet_rows(tmp_path / "out.parquet"), read_jsonl(tmp_path / "single.jsonl")
    assert_same_predictions(rows, expected)
    assert [row["id"] for row in rows] == [want["id"] for want in expected]
    assert rows[1]["n"] == 1 and rows[0]["n"] is None  # JSON numbers stay numbers
    assert {row["input_file"] for row in rows} == {str((tmp_path / "in.jsonl").resolve())}


def test_parquet_input_on_a_cluster_and_through_classify_dask(client, texts, tmp_path):
    import dask.dataframe as dd
    import pandas
    import pyarrow as pa
    import pyarrow.parquet as pq

    from stancekit import classify, classify_dask, classify_frame

    pq.write_table(pa.table({"text": texts, "n": list(range(len(texts)))}), tmp_path / "in.parquet",
                   row_group_size=150)
    summary = run_dask_job(ClassifyJob(inputs=[str(tmp_path / "*.parquet")], model="tfidf",
                                       output=str(tmp_path / "out.parquet"), quiet=True), client=client)
    assert (summary.partitions, summary.written) == (4, len(texts))
    rows = parquet_rows(tmp_path / "out.parquet")
    assert [row["n"] for row in rows] == list(range(len(texts)))  # Parquet columns keep their type
    expected = [{"input_line": line, **p.__dict__} for line, p in enumerate(classify(texts, model="tfidf"), 1)]
    assert_same_predictions(rows, expected)

    frame = pandas.DataFrame({"text": texts, "n": range(len(texts))})
    scored = classify_dask(dd.from_pandas(frame, npartitions=3), model="tfidf").compute()
    # dask stores text as Arrow strings: same values, another dtype
    pandas.testing.assert_frame_equal(scored, classify_frame(frame, model="tfidf"), check_dtype=False,
                                      rtol=0, atol=1e-6)


def test_both_engines_give_the_same_columns_with_the_same_types(client, texts, tmp_path):
    """Booleans stay booleans and JSON numbers numbers: a Parquet reader filters and sorts on them."""
    import pandas

    from stancekit.io.writers import flatten_for_csv

    ids = [2, 10, 1, 33, 4, 100, 7, 5, 9, 3, 8, 6]
    records = [{"id": number, "text": text, "urgent": number % 2 == 0, "weight": number / 4,
                "tags": ["a", number], "author": f"a{number}"} for number, text in zip(ids, texts)]
    records[5]["text"] = "مرگ بر دیکتاتور"
    write_jsonl(tmp_path / "in.jsonl", records)
    common = [sys.executable, "-m", "stancekit", "classify", "in.jsonl", "--model", "tfidf"]
    single = subprocess.run([*common, "-o", "single.jsonl"], cwd=tmp_path, env=cli_env(), capture_output=True,
                            text=True)
    dask = subprocess.run([*common, "--engine", "dask", "--scheduler", client.scheduler.address,
                           "--blocksize", "1000", "-o", "out.parquet"], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True)
    assert single.returncode == 0 and dask.returncode == 0, single.stderr + dask.stderr

    frame = pandas.read_parquet(tmp_path / "out.parquet")
    types = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert {name: types[name] for name in ("id", "urgent", "weight", "in_scope", "truncated", "input_line",
                                           "stance_confidence", "claim_score_none")} == {
        "id": "int64", "urgent": "bool", "weight": "float64", "in_scope": "bool", "truncated": "bool",
        "input_line": "int64", "stance_confidence": "float64", "claim_score_none": "float64"}
    assert frame[~frame.in_scope].id.tolist() == [100]
    assert frame.sort_values("id").id.tolist() == sorted(ids)

    expected = [flatten_for_csv(record) for record in read_jsonl(tmp_path / "single.jsonl")]
    rows = parquet_rows(tmp_path / "out.parquet")
    assert [list(row) for row in rows] == [list(want) for want in expected]  # same columns, same order
    for row, want in zip(rows, expected):
        want["input_file"] = str(tmp_path / "in.jsonl")  # the dask engine's is absolute
        assert {name: type(value) for name, value in row.items()} == {name: type(value) for name, value in want.items()}
        assert row == pytest.approx(want, abs=1e-6)


def test_both_engines_end_with_the_same_summary_line(client, tmp_path):
    article = "The talks in Vienna would resume next week after a short pause. " * 100
    records = [{"text": "Parliament meets on Sunday."}, "", {"text": "مرگ بر دیکتاتور"}, {"text": article},
               {"text": "Join the strike tomorrow!"}, ""]
    write_jsonl(tmp_path / "in.jsonl", records)
    common = [sys.executable, "-m", "stancekit", "classify", "in.jsonl", "--model", "tfidf"]
    local = subprocess.run([*common, "-o", "out.jsonl"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    dask = subprocess.run([*common, "--engine", "dask", "--scheduler", client.scheduler.address, "--blocksize", "100",
                           "-o", "out.parquet"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True)
    assert local.returncode == 0 and dask.returncode == 0, local.stderr + dask.stderr
    closing = "(4 input records, 2 blank lines, 1 truncated, 1 out of scope (not English))"
    assert f"stancekit: wrote 4 records to out.jsonl {closing}" in local.stderr.splitlines()
    assert f"stancekit: wrote 4 records to out.parquet {closing}" in dask.stderr.splitlines()


def test_a_json_field_of_two_types_is_an_error_naming_its_line(client, tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", [{"id": 1, "text": "a"}, {"id": 2.5, "text": "b"}, {"id": "3", "text": "c"}])
    out = str(tmp_path / "out.parquet")
    assert main(["classify", str(tmp_path / "in.jsonl"), "-m", "tfidf", "--engine", "dask",
                 "--scheduler", client.scheduler.address, "-o", out]) == 2
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "in.jsonl:3: id: text" in error and "number" in error, error
    assert not list(Path(out).glob("part-*"))


class KillOnce(WorkerPlugin):
    """Kills its worker process as the second partition it is given starts, once per job (a marker file)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.started = 0

    def transition(self, key, start: str, finish: str, **kwargs) -> None:
        if finish == "executing" and "_score_partition" in str(key):
            self.started += 1
            if self.started == 2 and not os.path.exists(self.marker):
                Path(self.marker).touch()
                os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_job_loses_and_repeats_nothing_and_a_rerun_skips_what_is_written(client, texts,
                                                                                            tmp_path):
    write_input(tmp_path, texts)
    marker = tmp_path / "killed"
    client.register_plugin(KillOnce(str(marker)), name="kill-once")
    job = ClassifyJob(inputs=[str(tmp_path / "in.jsonl")], model="tfidf", output=str(tmp_path / "out.parquet"),
                      quiet=True)
    try:
        summary = run_dask_job(job, client=client, blocksize=8000)
    finally:
        client.unregister_worker_plugin("kill-once")
    assert marker.exists(), "no worker was killed"
    rows = parquet_rows(tmp_path / "out.parquet")
    lines = [line for line in range(1, len(texts) + len(texts) // 50 + 1) if line % 51]
    assert [row["input_line"] for row in rows] == lines
    assert [row["id"] for row in rows] == [f"r{i}" for i in range(len(texts))]
    assert summary.written == len(texts) and summary.partitions_skipped == 0

    folder = tmp_path / "out.parquet"
    parts = sorted(folder.glob("part-*.parquet"))
    assert not list(folder.glob(".*"))  # no temporary file left behind
    written = {part.name: part.stat().st_mtime_ns for part in parts}
    parts[len(parts) // 2].unlink()  # as if the job had been killed before writing it
    rerun = run_dask_job(job, client=client, blocksize=8000)
    assert (rerun.partitions_skipped, rerun.written) == (len(parts) - 1, len(texts))
    assert {p.name: p.stat().st_mtime_ns for p in parts if p != parts[len(parts) // 2]}.items() <= written.items()
    assert parquet_rows(folder) == rows

    with pytest.raises(Exception, match="differs in blocksize"):
        run_dask_job(job, client=client, blocksize=9000)
    client.wait_for_workers(2, timeout=60)


def test_errors_are_one_line_with_exit_status_2(client, tmp_path, monkeypatch, capsys):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "fine"}, "{not json"])
    out = str(tmp_path / "out.parquet")
    scheduler = ["--engine", "dask", "--scheduler", client.scheduler.address]
    assert main(["classify", str(bad), "-m", "tfidf", *scheduler, "-o", out]) == 2
    error = capsys.readouterr().err
    assert error.endswith("bad.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes "
                          "(column 2)\n") and len(error.splitlines()) == 1
    for args, message in [(["--engine", "dask", "--split-sentences"], "--split-sentences: not available"),
                          (["--engine", "dask", "-o", "-"], "cannot read stdin"),
                          (["--workers", "2"], "--workers needs --engine dask"),
                          (["-o", "x.parquet"], "Parquet output needs --engine dask")]:
        assert main(["classify", "-", *args, *(["-o", out] if "-o" not in args else [])]) == 2
        assert message in capsys.readouterr().err, args
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["classify", str(bad), "--engine", "dask", "-o", out]) == 2
    assert "install stancekit[dask]" in capsys.readouterr().err
