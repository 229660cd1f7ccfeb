"""Explanations: spans into the text, exact TF-IDF contributions, faithful deletion; scope flags; review."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pytest

from stancekit import classify, classify_frame, load_model
from stancekit.classifiers.base import Scores, TextClassifier
from stancekit.classifiers.explanations import delete_spans, occlusion_units, words
from stancekit.data.language import detect_scope
from stancekit.labels import TASKS
from stancekit.prediction import REVIEW_BELOW, review_flag

from conftest import write_jsonl

SENTENCES = [
    "The martyr Soleimani is alive forever.",
    "The regime hanged three more protesters at dawn in Evin prison.",
    "Join the nationwide strike on Saturday #IranProtests",
    "The rioters were paid by foreign enemies.",
]


def check_evidence(text: str, evidence: dict, method: str) -> None:
    """Every span points into the text; toward the label first, strongest first, then against it."""
    assert evidence["method"] == method
    for task in TASKS:
        weights = [item["weight"] for item in evidence[task]]
        for item in evidence[task]:
            assert 0 <= item["start"] < item["end"] <= len(text)
            assert text[item["start"]:item["end"]] == item["text"]
            assert item["weight"] != 0
        toward = [w for w in weights if w > 0]
        assert weights[:len(toward)] == sorted(toward, reverse=True)
        assert weights[len(toward):] == sorted(weights[len(toward):])


def log_odds(probabilities: np.ndarray, column: int) -> float:
    logs = np.log(probabilities.astype(np.float64))
    return float(logs[column] - logs.mean())


@pytest.mark.parametrize("labels", ["predicted", "other"])
def test_tfidf_contributions_add_up_to_the_log_odds(labels):
    model = load_model("tfidf")
    texts = [*SENTENCES, "İSTANBUL — the IRGC's drones struck Erbil!!", "", "x" * 6000 + " martyr"]
    probabilities = model.predict_proba(texts)
    predicted = model.predict(texts)
    chosen = [{"stance": s, "claim_type": c} for s, c in predicted]
    if labels == "other":  # any label, not only the predicted one
        chosen = [{"stance": "neutral", "claim_type": "threat"} for _ in texts]
    for index, attribution in enumerate(model.linear_attributions(texts, chosen)):
        for column, task in enumerate(TASKS):
            a = attribution[task]
            label_column = list(model.classes_[column]).index(a.label)
            total = a.weights.sum() + a.intercept + a.rest
            # the probabilities are float32: on a log-odds near 20 their rounding reaches about 1e-3
            assert total == pytest.approx(log_odds(probabilities[column][index], label_column), rel=1e-4, abs=2e-4)
            assert len(a.weights) == len(a.spans) == len(words(texts[index][:model.max_chars]))


def test_tfidf_evidence_points_into_the_text_and_names_the_strongest_words():
    predictions = classify(SENTENCES, model="tfidf", explain=True)
    for text, prediction in zip(SENTENCES, predictions):
        check_evidence(text, prediction.evidence, "linear")
        assert any(item["weight"] > 0 for item in prediction.evidence["stance"])
    martyr = predictions[0].evidence["claim_type"]
    assert "martyr" in martyr[0]["text"]


def test_plain_classification_has_no_evidence():
    prediction = classify(SENTENCES[0], model="tfidf")
    assert prediction.evidence is None


def test_deleting_the_top_evidence_lowers_the_label_probability():
    model = load_model("tfidf")
    for text, prediction in zip(SENTENCES, classify(SENTENCES, model="tfidf", explain=True)):
        for column, task in enumerate(TASKS):
            toward = [item for item in prediction.evidence[task] if item["weight"] > 0]
            label = list(model.classes_[column]).index(getattr(prediction, task))
            before = model.predict_proba([text])[column][0, label]
            after = model.predict_proba([delete_spans(text, [(i["start"], i["end"]) for i in toward])])[column][0, label]
            assert after < before, (text, task)


def test_occlusion_on_the_transformer_is_faithful_on_fixed_sentences():
    model = load_model("transformer")
    texts = SENTENCES[:3]
    predictions = classify(texts, model="transformer", explain=True)
    full = model.full_precision()
    assert full.precision == "fp32" and model.precision == "int8"  # the loaded model is unchanged
    for text, prediction in zip(texts, predictions):
        check_evidence(text, prediction.evidence, "occlusion")
        column = list(model.classes_[0]).index(prediction.stance)
        top = prediction.evidence["stance"][0]
        assert top["weight"] > 0
        before = log_odds(full.predict_proba([text])[0][0], column)
        after = log_odds(full.predict_proba([delete_spans(text, [(top["start"], top["end"])])])[0][0], column)
        assert before - after == pytest.approx(top["weight"], abs=0.006)  # the measured drop in log-odds
        assert model.predict_proba([delete_spans(text, [(top["start"], top["end"])])])[0][0, column] < \
            model.predict_proba([text])[0][0, column]


@pytest.mark.parametrize("model", ["transformer", "ensemble"])
def test_occlusion_evidence_of_confident_sentences_is_not_near_zero(model, cli):
    """On a sentence the model is sure of, deleting one word barely moves the probability but does
    move the log-odds: evidence is weighed in log-odds, and nothing that prints as 0 is listed."""
    text = "Political prisoners in Evin prison are tortured by the regime's interrogators."
    prediction = classify(text, model=model, explain=True)
    assert prediction.stance_confidence > 0.9 and prediction.claim_confidence > 0.9
    for task in TASKS:
        weights = [item["weight"] for item in prediction.evidence[task]]
        assert weights and weights[0] > 0.5, (task, weights)  # the strongest evidence moves the log-odds
        assert all(abs(weight) >= 0.005 and weight == round(weight, 2) for weight in weights), (task, weights)
    table = cli("classify", "-", "--model", model, "--explain", "--format", "table", stdin=text + "\n")
    listed = re.findall(r"([+-]\d+\.\d+) '", table.stdout)
    assert listed and all(re.fullmatch(r"[+-]\d+\.\d\d", weight) and float(weight) for weight in listed)


def test_explain_takes_any_label_and_empty_text():
    model = load_model("tfidf")
    evidence = model.explain(["", "Death to America"], [{"stance": "neutral", "claim_type": "none"}] * 2)
    assert evidence[0] == {"stance": [], "claim_type": [], "method": "linear"}
    check_evidence("Death to America", evidence[1], "linear")


class KeywordModel(TextClassifier):
    """A model kind written for this test: the word "martyr" makes a text regime and glorification."""

    kind = "keyword"

    def __init__(self, *, name: str = "keyword", version: str = "1.0.0") -> None:
        self.name = name
        self.version = version

    def _fit(self, texts, targets, validation, quiet, checkpoint=None):
        self.fitted_ = True
        return self

    def _predict_scores(self, texts):
        hits = np.array([[4.0 * ("martyr" in text.lower())] for text in texts])
        probabilities = []
        for classes, label in zip(self.classes_, ("regime", "glorification")):
            logits = np.where(classes == label, hits, 0.0) if len(texts) else np.zeros((0, len(classes)))
            probabilities.append(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True))
        return Scores(probabilities, np.zeros(len(texts), dtype=bool))

    def _save_state(self, folder):
        return {}

    @classmethod
    def _from_saved(cls, folder, config, loader):
        return cls()


def test_a_new_model_kind_explains_by_occlusion_without_code_of_its_own():
    model = KeywordModel().fit(["a"], [["neutral", "none"]])
    text = "Glory to the martyr of the nation"
    evidence = model.explain([text], [{"stance": "regime", "claim_type": "glorification"}])[0]
    check_evidence(text, evidence, "occlusion")
    for task in TASKS:
        assert [item["text"] for item in evidence[task]] == ["martyr"]
        assert evidence[task][0]["weight"] > 0


@pytest.mark.parametrize("text, spans, expected", [
    ("The martyr Soleimani is alive.", [(4, 10)], "The Soleimani is alive."),
    ("The martyr Soleimani is alive.", [(24, 29)], "The martyr Soleimani is."),
    ("The martyr Soleimani is alive.", [(0, 3)], "martyr Soleimani is alive."),
    ("a b c", [(0, 1), (2, 3), (4, 5)], ""),
    ("a b c", [(0, 3), (2, 5)], ""),
    ("no change", [], "no change"),
])
def test_delete_spans(text, spans, expected):
    assert delete_spans(text, spans) == expected


def test_long_texts_are_occluded_in_runs_of_words():
    text = " ".join(f"word{i}" for i in range(200))
    units = occlusion_units(text)
    assert len(units) <= 48
    assert units[0][0] == 0 and units[-1][1] == len(text)


# output fields ----------------------------------------------------------------------------------

def test_evidence_is_json_text_in_frames_and_csv(cli, tmp_path):
    pandas = pytest.importorskip("pandas")
    frame = classify_frame(pandas.DataFrame({"text": SENTENCES[:2]}), model="tfidf", explain=True)
    assert json.loads(frame["evidence"][0])["method"] == "linear"
    assert list(frame.columns[-3:]) == ["language", "in_scope", "evidence"]
    assert "evidence" not in classify_frame(pandas.DataFrame({"text": ["a"]}), model="tfidf").columns
    source = tmp_path / "in.txt"
    source.write_text("\n".join(SENTENCES[:2]) + "\n", encoding="utf-8")
    process = cli("classify", "in.txt", "--model", "tfidf", "--explain", "-o", "out.csv")
    assert process.returncode == 0, process.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    evidence = json.loads(rows[0]["evidence"])
    assert SENTENCES[0][evidence["stance"][0]["start"]:evidence["stance"][0]["end"]] == evidence["stance"][0]["text"]


def test_cli_explain_jsonl_prefix_and_table(cli, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", [{"text": SENTENCES[1], "stance": "x"}])
    process = cli("classify", "in.jsonl", "--model", "tfidf", "--explain", "--prefix", "pred_")
    assert process.returncode == 0, process.stderr
    record = json.loads(process.stdout)
    assert record["stance"] == "x" and record["pred_evidence"]["method"] == "linear"
    assert list(record)[-3:] == ["pred_evidence", "pred_input_file", "pred_input_line"]
    table = cli("classify", "-", "--model", "tfidf", "--explain", "--format", "table", stdin=SENTENCES[1] + "\n")
    lines = table.stdout.splitlines()
    assert lines[0].split()[:6] == ["stance", "conf", "claim_type", "conf", "flag", "text"]
    assert lines[2].strip().startswith("stance evidence: +") and "claim_type evidence" in lines[3]


# scope and review -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, language", [
    ("مرگ بر دیکتاتور", "fa"), ("#مرگ_بر_دیکتاتور", "fa"), ("Смерть диктатору! Россия поддерживает режим.", "ru"),
    ("Les manifestations continuent en Iran malgré la répression du régime.", "fr"),
    ("Frau, Leben, Freiheit! Die Proteste im Iran gehen weiter.", "de"),
    ("La represión en Irán continúa contra los manifestantes.", "es"),
])
def test_other_languages_are_out_of_scope(text, language):
    assert detect_scope(text) == (language, False)


@pytest.mark.parametrize("text", [
    "Free Iran now!", "#MahsaAmini", "#FreeIran #IranRevolution", "Woman Life Freedom", "28 October 2024",
    "Death to the dictator", "He shouted 'مرگ بر دیکتاتور' in the street with thousands of others.",
    "@khamenei_ir lies again https://t.co/abc", "Trending · 28 June 2024: #انتخابات_۱۴۰۳ · #NoVote",
])
def test_english_posts_and_hashtags_are_in_scope(text):
    assert detect_scope(text).in_scope


def test_texts_without_letters_are_undetermined_and_in_scope():
    assert detect_scope("") == ("und", True)
    assert detect_scope("😀 2024") == ("und", True)


def test_no_sentence_of_the_shipped_corpus_is_out_of_scope():
    from stancekit.data import load_records

    texts = [record["text"] for record in load_records()]
    flagged = [text for text in texts if not detect_scope(text).in_scope]
    assert len(texts) > 5000 and flagged == []


def test_persian_slogan_is_flagged_and_counted_by_the_cli(cli):
    prediction = classify("مرگ بر دیکتاتور", model="tfidf")
    assert (prediction.language, prediction.in_scope, prediction.flag) == ("fa", False, "out of scope")
    process = cli("classify", "-", "--model", "tfidf", "--format", "table",
                  stdin="مرگ بر دیکتاتور\nThe parliament will meet on Sunday.\n")
    assert process.returncode == 0
    assert "out of scope" in process.stdout.splitlines()[1]
    assert "(2 input records, 1 out of scope (not English))" in process.stderr


def test_review_flag_threshold():
    assert review_flag(REVIEW_BELOW - 0.01) == "review"
    assert review_flag(REVIEW_BELOW) == ""
    assert review_flag(0.99, in_scope=False) == "out of scope"


def test_explain_is_refused_by_the_dask_engine(cli, tmp_path):
    (tmp_path / "in.txt").write_text("The strike goes on.\n", encoding="utf-8")
    process = cli("classify", "in.txt", "--engine", "dask", "--explain", "-o", "out.parquet", "--model", "tfidf")
    assert process.returncode == 2
    assert "--explain: not available on the dask engine" in process.stderr
