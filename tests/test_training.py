"""Training and saving: the table of model kinds, safe output folders, names, versions and data hashes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stancekit.classifiers.tfidf import TfidfClassifier
from stancekit.errors import ModelError
from stancekit.registry import MODEL_KINDS, classifier_class, ensemble_member_kinds, make_model
from stancekit.jobs.training import data_sha256, train

from conftest import TINY_TRAIN, cli_env, make_record, write_jsonl


@pytest.fixture
def tiny_data(tmp_path):
    """Twelve records in four documents: two train, one dev, one test."""
    records = [make_record(i, text=t, stance=s, claim_type=c, doc_id=f"doc-{i % 4}")
               for i, (t, s, c) in enumerate(TINY_TRAIN * 2)]
    data = write_jsonl(tmp_path / "tiny.jsonl", records)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"splits": {"train": ["doc-0", "doc-1"], "dev": ["doc-2"], "test": ["doc-3"]}}))
    return records, data, splits


def fitted_tfidf():
    return TfidfClassifier(min_df=1).fit([t for t, _, _ in TINY_TRAIN], [[s, c] for _, s, c in TINY_TRAIN])


def test_every_kind_in_the_table_is_a_model_class_the_cli_offers():
    from stancekit.cli import build_parser

    for kind in MODEL_KINDS:
        cls = classifier_class(kind)
        assert cls.kind == kind
        assert isinstance(make_model(kind), cls)
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    choices = next(a.choices for a in train_parser._actions if a.dest == "kind")
    assert list(choices) == list(MODEL_KINDS)
    assert make_model("transformer", seed=5).seed == 5
    assert make_model("tfidf", seed=5).get_params() == TfidfClassifier().get_params()
    with pytest.raises(ModelError, match=f"unknown model kind 'svm'; expected one of {', '.join(MODEL_KINDS)}"):
        classifier_class("svm")


def test_a_registered_kind_is_offered_by_the_cli_and_joins_the_default_ensemble(monkeypatch):
    from stancekit.cli import build_parser
    from stancekit.registry import ModelKind

    monkeypatch.setitem(MODEL_KINDS, "tfidf_chars",
                        ModelKind("stancekit.classifiers.tfidf:TfidfClassifier", "characters only", True))
    assert "tfidf_chars" in build_parser().parse_args(["train", "--model", "tfidf_chars", "--out", "x"]).kind
    assert ensemble_member_kinds() == ["transformer", "tfidf", "tfidf_chars"]
    members = make_model("ensemble", seed=5).members
    assert list(members) == ["transformer", "tfidf", "tfidf_chars"]
    assert members["transformer"].seed == 5


def test_importing_the_registry_and_the_cli_loads_no_model_library():
    code = ("import sys, stancekit, stancekit.registry, stancekit.cli; stancekit.cli.build_parser(); "
            "print(sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(),
                             cwd="/", timeout=60)
    assert process.stdout.strip() == "[]", process.stderr


def test_save_refuses_a_folder_that_is_not_a_model_even_with_overwrite(tmp_path):
    model = fitted_tfidf()
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.md").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(ModelError, match="exists and is not a stancekit model folder"):
            model.save(folder, overwrite=overwrite)
    assert (folder / "chapter1.md").read_text() == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"]  # no staging folder left behind
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="is not a folder"):
        model.save(tmp_path / "file", overwrite=True)


def test_save_replaces_a_model_only_with_overwrite_and_uses_an_empty_folder(tmp_path):
    model = fitted_tfidf()
    folder = model.save(tmp_path / "m", card="# first")
    with pytest.raises(ModelError, match="already holds a model; to replace it, save with `overwrite`"):
        model.save(folder, card="# second")
    assert (folder / "MODEL_CARD.md").read_text() == "# first"
    model.save(folder, card="# second", overwrite=True)
    assert (folder / "MODEL_CARD.md").read_text() == "# second"
    assert TfidfClassifier.load(folder).predict(["a text"]).shape == (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    (tmp_path / "empty").mkdir()
    model.save(tmp_path / "empty")
    assert (tmp_path / "empty" / "config.json").is_file()


def test_train_refuses_an_unrelated_output_folder_before_training(tiny_data, tmp_path, monkeypatch):
    _, data, splits = tiny_data
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    monkeypatch.setattr(TfidfClassifier, "_fit", lambda *args: pytest.fail("trained before checking --out"))
    with pytest.raises(ModelError, match="not a stancekit model folder"):
        train("tfidf", data=[data], splits=splits, out=out, overwrite=True, quiet=True)
    assert (out / "keep.txt").read_text() == "mine"


def test_data_hash_ignores_record_and_key_order_but_not_content(tiny_data):
    records, _, _ = tiny_data
    reordered = [dict(reversed(list(r.items()))) for r in reversed(records)]
    assert data_sha256(reordered) == data_sha256(records)
    changed = [dict(records[0], stance="neutral" if records[0]["stance"] != "neutral" else "regime"), *records[1:]]
    assert data_sha256(changed) != data_sha256(records)


def test_train_ensemble_cli_saves_a_working_ensemble_with_name_version_and_data_hash(
        tiny_data, cli, tmp_path, monkeypatch, capsys):
    from stancekit import registry
    from stancekit.cli import main

    records, data, splits = tiny_data
    out = tmp_path / "my ensemble"
    # the default members, with a transformer small enough for a test
    small = {"epochs": 1, "trainable_layers": 1, "max_length": 32}
    monkeypatch.setattr(registry, "default_members", lambda seed=None: {
        "transformer": make_model("transformer", seed=seed, **small), "tfidf": make_model("tfidf", seed=seed)})
    assert main(["train", "--model", "ensemble", "--data", str(data), "--splits", str(splits), "--out", str(out),
                 "--name", "campaign-2024", "--version", "0.3.0", "--quiet"]) == 0, capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert (config["name"], config["version"], config["kind"]) == ("campaign-2024", "0.3.0", "ensemble")
    assert config["training"]["data_sha256"] == data_sha256(records)
    assert {r["path"] for r in config["fitted"]["members"].values()} == {"members/transformer", "members/tfidf"}

    labeled = cli("classify", "-", "--model", out, stdin="The martyr commander will live forever\n")
    assert labeled.returncode == 0, labeled.stderr
    prediction = json.loads(labeled.stdout)
    assert (prediction["model"], prediction["model_version"]) == ("campaign-2024", "0.3.0")

    info = cli("info", out)
    assert info.returncode == 0, info.stderr
    assert info.stdout.startswith("campaign-2024 0.3.0 (ensemble), label scheme 1.0")
    assert f"training data sha256: {data_sha256(records)}" in info.stdout
    assert "test: stance macro-F1" in info.stdout and "member tfidf: members/tfidf" in info.stdout
    assert "members/tfidf/weights.safetensors" in info.stdout

    again = cli("train", "--model", "tfidf", "--data", data, "--splits", splits, "--out", out, "--quiet")
    assert again.returncode == 2
    assert again.stderr.strip().endswith("already holds a model; to replace it, save with --overwrite")


def test_info_on_a_shipped_model(cli):
    from stancekit.registry import resolve

    config = json.loads((resolve("tfidf") / "config.json").read_text(encoding="utf-8"))
    process = cli("info", "tfidf")
    assert process.returncode == 0, process.stderr
    assert process.stdout.startswith(f"tfidf {config['version']} (tfidf), label scheme 1.0")
    assert f"training data sha256: {config['training']['data_sha256']}" in process.stdout
    assert "weights.safetensors" in process.stdout


def test_overwrite_replaces_the_models_files_and_keeps_the_users(tmp_path):
    model = fitted_tfidf()
    folder = model.save(tmp_path / "m", card="# first")
    (folder / "NOTES.txt").write_text("why this model")
    (folder / "analysis").mkdir()
    (folder / "analysis" / "errors.csv").write_text("id,gold\n")
    model.save(folder, card="# second", overwrite=True)
    assert (folder / "MODEL_CARD.md").read_text() == "# second"
    assert (folder / "NOTES.txt").read_text() == "why this model"
    assert (folder / "analysis" / "errors.csv").read_text() == "id,gold\n"
    assert "NOTES.txt" not in (folder / "manifest.json").read_text()
    assert TfidfClassifier.load(folder).predict(["a text"]).shape == (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_overwrite_refuses_a_user_file_with_the_name_of_a_new_model_file(tmp_path):
    model = fitted_tfidf()
    folder = model.save(tmp_path / "m")  # no model card
    (folder / "MODEL_CARD.md").write_text("my own notes")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ModelError, match="MODEL_CARD.md"):
        model.save(folder, card="# card", overwrite=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_train_overwrite_keeps_a_users_file_in_the_model_folder(tiny_data, cli, tmp_path):
    _, data, splits = tiny_data
    command = ["train", "--model", "tfidf", "--data", data, "--splits", splits, "--out", "model", "--quiet",
               "--param", "min_df=1"]
    assert cli(*command).returncode == 0
    (tmp_path / "model" / "NOTES.txt").write_text("keep me")
    (tmp_path / "model" / "runs").mkdir()
    (tmp_path / "model" / "runs" / "log.txt").write_text("and me")
    process = cli(*command, "--overwrite", "--version", "2.0.0")
    assert process.returncode == 0, process.stderr
    assert (tmp_path / "model" / "NOTES.txt").read_text() == "keep me"
    assert (tmp_path / "model" / "runs" / "log.txt").read_text() == "and me"
    assert json.loads((tmp_path / "model" / "config.json").read_text())["version"] == "2.0.0"


def test_training_on_too_few_records_warns_and_leaves_probabilities_uncalibrated(cli, tmp_path):
    from stancekit.classifiers.calibration import minimum_split_records

    records = [make_record(i, text=t, stance=s, claim_type=c, doc_id=f"doc-{i % 5}")
               for i, (t, s, c) in enumerate((TINY_TRAIN * 3)[:30])]
    data = write_jsonl(tmp_path / "small.jsonl", records)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"splits": {"train": ["doc-0", "doc-1", "doc-2"], "dev": ["doc-3"],
                                             "test": ["doc-4"]}}))
    process = cli("train", "--model", "tfidf", "--data", data, "--splits", splits, "--out", "small", "--quiet",
                  "--param", "min_df=1")
    assert process.returncode == 0, process.stderr
    minimum = minimum_split_records()
    warnings = [line for line in process.stderr.splitlines() if line.startswith("stancekit: warning: ")]
    assert len(warnings) == 2, process.stderr
    assert "train split has 18 records" in warnings[0] and "dev split has 6 records" in warnings[1]
    assert all(f"fewer than {minimum}" in line for line in warnings)
    assert "not calibrated" in warnings[1]
    card = (tmp_path / "small" / "MODEL_CARD.md").read_text()
    assert "## Warnings" in card and "dev split has 6 records" in card
    model = TfidfClassifier.load(tmp_path / "small")
    assert model.temperature_ == {"stance": 1.0, "claim_type": 1.0}


def test_enough_dev_records_are_calibrated_without_a_warning(cli, tmp_path):
    from stancekit.classifiers.calibration import minimum_split_records

    minimum = minimum_split_records()
    records = [make_record(i, text=f"{t} ({i})", stance=s, claim_type=c, doc_id=f"doc-{i % 3}")
               for i, (t, s, c) in enumerate((TINY_TRAIN * 20)[:3 * minimum])]
    data = write_jsonl(tmp_path / "enough.jsonl", records)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"splits": {"train": ["doc-0"], "dev": ["doc-1"], "test": ["doc-2"]}}))
    process = cli("train", "--model", "tfidf", "--data", data, "--splits", splits, "--out", "enough", "--quiet")
    assert process.returncode == 0, process.stderr
    assert "warning" not in process.stderr
    assert "## Warnings" not in (tmp_path / "enough" / "MODEL_CARD.md").read_text()
    assert all(t != 1.0 for t in TfidfClassifier.load(tmp_path / "enough").temperature_.values())


def _transfer_folder(folder, rows, probabilities):
    """A transfer folder: texts, a teacher's probabilities for each (stance, claim type), the teacher's identity."""
    from stancekit.labels import get_scheme

    scheme = get_scheme()
    folder.mkdir()
    write_jsonl(folder / "transfer.jsonl", rows)
    write_jsonl(folder / "teacher_labels.jsonl",
                [{"id": row["id"], "stance": p[0], "claim_type": p[1]} for row, p in zip(rows, probabilities)])
    (folder / "teacher.json").write_text(json.dumps({
        "teacher": {"name": "teacher", "version": "9.9.9", "manifest_sha256": "ab" * 32},
        "labels": {"stance": list(scheme.stances), "claim_type": list(scheme.claim_types)}}))
    return folder


def test_distillation_learns_the_teachers_probabilities_mixed_with_gold_labels(tiny_data, tmp_path):
    from stancekit.jobs.distillation import load_transfer, student_targets
    from stancekit.labels import get_scheme

    records, data, splits = tiny_data
    scheme = get_scheme()
    train_records = [r for r in records if r["doc_id"] in ("doc-0", "doc-1")]
    unlabeled = ["Security forces opened fire on the crowd in Zahedan", "The IRGC unveiled a new missile",
                 "Teachers plan a sit-in on Thursday", "The talks resume in Vienna next week"]
    rows = ([{"id": r["id"], "text": r["text"], "kind": "train"} for r in train_records]
            + [{"id": f"w-{i}", "text": text, "kind": "written"} for i, text in enumerate(unlabeled)])
    uniform = [[1 / 3] * 3, [0.1] * 10]
    folder = _transfer_folder(tmp_path / "transfer", rows, [uniform] * len(rows))
    transfer = load_transfer(folder)
    texts, targets = student_targets(transfer, train_records, gold_weight=0.5)
    assert texts == [row["text"] for row in rows] and transfer.kinds == {"train": len(train_records), "written": 4}
    first = train_records[0]
    stance_column = list(scheme.stances).index(first["stance"])
    assert targets[0][0, stance_column] == pytest.approx(0.5 + 0.5 / 3)  # half gold, half teacher
    np_rows = targets[1][len(train_records):]
    assert (np_rows == 0.1).all()  # unlabeled texts keep the teacher's probabilities

    result = train("tfidf", data=[data], splits=splits, out=tmp_path / "student", params={"min_df": 1},
                   transfer=folder, quiet=True)
    card = (result.folder / "MODEL_CARD.md").read_text()
    assert "distilled from teacher 9.9.9" in card
    assert f"{len(rows)} transfer texts ({len(train_records)} train, 4 written)" in card
    config = json.loads((result.folder / "config.json").read_text())
    assert config["training"]["distillation"]["gold_weight"] == 0.5


def test_a_transfer_set_holding_a_held_out_text_is_refused(tiny_data, tmp_path):
    from stancekit.errors import InputError

    records, data, splits = tiny_data
    test_text = next(r["text"] for r in records if r["doc_id"] == "doc-3")
    folder = _transfer_folder(tmp_path / "transfer", [{"id": "x", "text": test_text, "kind": "written"}],
                              [[[1 / 3] * 3, [0.1] * 10]])
    with pytest.raises(InputError, match="holds a dev or test text"):
        train("tfidf", data=[data], splits=splits, params={"min_df": 1}, transfer=folder, quiet=True)
    (folder / "teacher_labels.jsonl").write_text("")
    with pytest.raises(InputError, match="transfer.jsonl:1: id: no teacher probabilities"):
        train("tfidf", data=[data], splits=splits, params={"min_df": 1}, transfer=folder, quiet=True)
