"""Metrics worked out by hand, and the evaluate command on a small labeled file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancekit.evaluation.results import evaluate_predictions, task_metrics

from conftest import make_record, write_jsonl


def test_task_metrics_match_hand_computation():
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    metrics = task_metrics(gold, predicted, ["a", "b", "c", "d"])
    # a: tp 2, fp 0, fn 1 -> P 1, R 2/3, F1 0.8
    # b: tp 1, fp 1, fn 1 -> P 1/2, R 1/2, F1 0.5
    # c: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2/3
    # d: absent from gold and predictions: left out of the macro average
    assert metrics.per_class["a"].f1 == pytest.approx(0.8)
    assert metrics.per_class["b"].precision == pytest.approx(0.5)
    assert metrics.per_class["c"].recall == pytest.approx(1.0)
    assert metrics.per_class["c"].f1 == pytest.approx(2 / 3)
    assert metrics.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert metrics.accuracy == pytest.approx(4 / 6)
    assert metrics.confusion == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert metrics.most_confused == [("a", "b", 1), ("b", "c", 1)]
    assert metrics.per_class["a"].support == 3


def test_evaluate_predictions_covers_both_tasks():
    records = [make_record(1, stance="regime", claim_type="threat"),
               make_record(2, stance="opposition", claim_type="repression")]
    predicted = np.array([["regime", "threat"], ["regime", "repression"]], dtype=object)
    result = evaluate_predictions(records, predicted)
    assert result.tasks["stance"].accuracy == pytest.approx(0.5)
    assert result.tasks["claim_type"].accuracy == pytest.approx(1.0)
    # stance: regime P 1/2 R 1 F1 2/3; opposition F1 0 -> macro 1/3
    assert result.tasks["stance"].macro_f1 == pytest.approx(1 / 3)


def test_evaluate_cli_reports_hand_computed_scores(cli, tmp_path):
    """The shipped TF-IDF model on sentences whose predictions the test then checks by hand."""
    from stancekit import load_model

    texts = ["The IRGC is a terrorist organisation that must be blacklisted.",
             "The martyr Soleimani is alive forever in the hearts of the nation.",
             "The parliament will meet on Sunday.",
             "Join the strike on Saturday in every city! #IranProtests"]
    records = [make_record(i, text=t, stance="opposition", claim_type="terrorism", id=f"e{i}")
               for i, t in enumerate(texts)]
    data = write_jsonl(tmp_path / "labeled.jsonl", records)
    predicted = load_model("tfidf").predict(texts)
    expected_accuracy = float(np.mean(predicted[:, 0] == "opposition"))
    process = cli("evaluate", data, "--model", "tfidf", "--json", tmp_path / "m.json",
                  "--report", tmp_path / "r.md", "--plot", tmp_path / "c.png", "--quiet")
    assert process.returncode == 0, process.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["records"] == 4
    assert metrics["tasks"]["stance"]["accuracy"] == pytest.approx(expected_accuracy)
    # with one gold label, macro-F1 averages F1(opposition) and zeros for wrongly predicted labels
    n_right = int((predicted[:, 0] == "opposition").sum())
    wrong_labels = set(predicted[:, 0]) - {"opposition"}
    f1_opposition = 2 * n_right / (n_right + 4) if n_right else 0.0
    expected_macro = f1_opposition / (1 + len(wrong_labels))
    assert metrics["tasks"]["stance"]["macro_f1"] == pytest.approx(expected_macro)
    assert "## stance" in (tmp_path / "r.md").read_text()
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "macro-F1" in process.stdout


def test_evaluate_split_selects_only_that_split(cli, tmp_path):
    records = [make_record(i, doc_id=f"doc-{i}") for i in range(40)]
    splits = {"splits": {"train": [f"doc-{i}" for i in range(30)],
                         "dev": [f"doc-{i}" for i in range(30, 35)],
                         "test": [f"doc-{i}" for i in range(35, 40)]}}
    (tmp_path / "splits.json").write_text(json.dumps(splits))
    data = write_jsonl(tmp_path / "labeled.jsonl", records)
    process = cli("evaluate", data, "--model", "tfidf", "--split", "test", "--splits",
                  tmp_path / "splits.json", "--json", tmp_path / "m.json", "--quiet")
    assert process.returncode == 0, process.stderr
    assert json.loads((tmp_path / "m.json").read_text())["records"] == 5


def test_calibration_error_by_hand():
    from stancekit.metrics import calibration_error

    confidence = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, False, True, True])
    # bin 9: confidence 0.95, accuracy 0.5 -> gap 0.45 (2 records); bin 5: 0.55 vs 1.0 -> 0.45 (2 records)
    assert calibration_error(confidence, correct) == pytest.approx(0.45)
    assert calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == pytest.approx(0.0)


def test_reliability_bins_hold_every_record_once():
    from stancekit.metrics import reliability

    confidence = np.array([0.0, 0.05, 0.1, 0.55, 0.95, 1.0])
    correct = np.array([False, True, True, False, True, True])
    # bins of width 0.1: 0.0 and 0.05 in the first, 0.1 in the second; 0.95 and 1.0 share the last
    assert reliability(confidence, correct) == [(0, 2, pytest.approx(0.025), 0.5), (1, 1, pytest.approx(0.1), 1.0),
                                                (5, 1, pytest.approx(0.55), 0.0), (9, 2, pytest.approx(0.975), 1.0)]


def test_score_plot_is_written(tmp_path):
    from stancekit import load_model
    from stancekit.evaluation.plots import plot_scores
    from stancekit.evaluation.results import evaluate_model

    records = [make_record(i, text=t) for i, t in enumerate(["One.", "Two and three.", "Four!"])]
    result = evaluate_model(load_model("tfidf"), records)
    assert result.tasks["stance"].calibration_error is not None
    plot_scores(result, tmp_path / "scores.png")
    assert (tmp_path / "scores.png").read_bytes()[:4] == b"\x89PNG"
    assert "confidences" not in result.to_dict()


def test_macro_f1_averages_over_gold_and_predicted_labels():
    from stancekit.metrics import macro_f1

    gold, predicted = ["a", "a", "b", "b"], ["a", "c", "b", "b"]
    # a: F1 2/3, b: F1 1, c (predicted only): F1 0; a label in neither list does not count
    assert macro_f1(gold, predicted) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert macro_f1(np.array([0, 1, 1]), np.array([0, 1, 1])) == 1.0
    assert macro_f1([], []) == 0.0
    assert task_metrics(gold, predicted, ["a", "b", "c", "d"]).macro_f1 == macro_f1(gold, predicted)


def test_document_accuracy_counts_groups_with_every_member_right():
    from stancekit.evaluation.results import document_accuracy

    records = [make_record(1, doc_id="g1", stance="regime", claim_type="threat"),
               make_record(2, doc_id="g1", stance="opposition", claim_type="threat"),
               make_record(3, doc_id="g2", stance="neutral", claim_type="none"),
               make_record(4, doc_id="g2", stance="neutral", claim_type="none")]
    predicted = np.array([["regime", "threat"], ["opposition", "repression"],
                          ["neutral", "none"], ["regime", "none"]], dtype=object)
    assert document_accuracy(records, predicted) == {"documents": 2, "stance": 0.5, "claim_type": 0.5,
                                                     "all": 0.0}


def test_evaluate_by_document_prints_the_group_score(cli, tmp_path):
    records = [make_record(i, doc_id=f"g{i // 2}", text=f"Group {i // 2} says the strike went on, take {i}.")
               for i in range(1, 7)]
    write_jsonl(tmp_path / "groups.jsonl", records)
    plain = cli("evaluate", "groups.jsonl", "--model", "tfidf")
    grouped = cli("evaluate", "groups.jsonl", "--model", "tfidf", "--by-document")
    assert plain.returncode == grouped.returncode == 0, grouped.stderr
    assert "documents with every record right" not in plain.stdout
    assert "documents with every record right (4): stance" in grouped.stdout
