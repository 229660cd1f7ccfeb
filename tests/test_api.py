"""The Python API: classify, classify_document and load_model with the shipped TF-IDF model."""

from __future__ import annotations

import numpy as np
import pytest

import stancekit
from stancekit import classify, classify_document, load_model
from stancekit.errors import ModelError
from stancekit.labels import get_scheme

from conftest import SEEDS_DIR

SCHEME = get_scheme()


def test_classify_one_sentence_returns_every_documented_field():
    prediction = classify("Thousands of workers went on strike over unpaid wages.", model="tfidf")
    assert prediction.stance in SCHEME.stances
    assert prediction.claim_type in SCHEME.claim_types
    assert list(prediction.stance_scores) == list(SCHEME.stances)
    assert list(prediction.claim_scores) == list(SCHEME.claim_types)
    assert sum(prediction.stance_scores.values()) == pytest.approx(1, abs=1e-5)
    assert sum(prediction.claim_scores.values()) == pytest.approx(1, abs=1e-5)
    assert prediction.stance_confidence == max(prediction.stance_scores.values())
    assert prediction.claim_confidence == max(prediction.claim_scores.values())
    assert prediction.model == "tfidf" and prediction.model_version
    assert prediction.truncated is False


def test_classify_list_keeps_input_order():
    texts = ["The parliament meets on Sunday.", "Death to the dictator! #IranRevolution",
             "The martyrs of the resistance front will be avenged."]
    predictions = classify(texts, model="tfidf")
    assert [p.text for p in predictions] == texts
    singles = [classify(t, model="tfidf") for t in texts]
    for batch, single in zip(predictions, singles):
        assert batch.stance == single.stance and batch.claim_type == single.claim_type
        assert batch.stance_scores == pytest.approx(single.stance_scores, abs=1e-6)


def test_classify_empty_list_and_empty_string():
    assert classify([], model="tfidf") == []
    assert classify("", model="tfidf").stance in SCHEME.stances


@pytest.mark.parametrize("bad", [None, 3, b"bytes", [1, 2], ["ok", None]])
def test_non_text_input_raises_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match="int|NoneType|bytes"):
        classify(bad, model="tfidf")


def test_classify_document_splits_and_summarises():
    text = (SEEDS_DIR / "002_4d5488bc30741b78.txt").read_text(encoding="utf-8")
    document = classify_document(text, model="tfidf")
    assert len(document.sentences) > 10
    for sentence in document.sentences:
        assert text[sentence.start:sentence.end] == sentence.text
    assert sum(document.stance_shares.values()) == pytest.approx(1)
    assert sum(document.claim_shares.values()) == pytest.approx(1)
    assert set(document.claim_shares) == set(SCHEME.claim_types)
    counted = sum(1 for s in document.sentences if s.stance == "regime") / len(document.sentences)
    assert document.stance_shares["regime"] == pytest.approx(counted)


def test_load_model_is_cached_and_sklearn_like():
    model = load_model("tfidf")
    assert load_model("tfidf") is model
    texts = ["Sanctions have crushed ordinary families.", "Vote on Friday."]
    labels = model.predict(texts)
    probabilities = model.predict_proba(texts)
    assert labels.shape == (2, 2)
    assert [p.shape for p in probabilities] == [(2, 3), (2, 10)]
    for column, (classes, proba) in enumerate(zip(model.classes_, probabilities)):
        assert list(labels[:, column]) == list(classes[proba.argmax(axis=1)])


def test_fitting_a_loaded_model_cannot_change_another_callers_model():
    from sklearn.base import clone

    from conftest import TINY_TRAIN

    texts, labels = [t for t, _, _ in TINY_TRAIN], [[s, c] for _, s, c in TINY_TRAIN]
    mine, theirs = load_model("tfidf"), load_model("tfidf")
    assert mine is theirs  # one instance per process, so it refuses changes
    before = theirs.predict_proba(texts)
    with pytest.raises(ModelError, match=r"load_model\('tfidf'\) gives every caller.*sklearn\.base\.clone\(model\)"):
        mine.fit(texts, labels)
    with pytest.raises(ModelError, match="changing its parameters"):
        mine.set_params(C=0.01)
    ensemble = load_model("ensemble")
    assert ensemble.members_["tfidf"] is theirs
    with pytest.raises(ModelError, match="fitting it"):
        ensemble.members_["tfidf"].fit(texts, labels)
    with pytest.raises(ModelError, match="combining it"):
        ensemble.combine(texts, labels)

    copy = clone(mine).set_params(min_df=1, C_grid=(1.0,)).fit(texts, labels, validation=(texts, labels))
    assert copy.predict(texts).tolist() == labels
    assert theirs.C == 10.0 and load_model("tfidf") is theirs
    for task_before, task_after in zip(before, theirs.predict_proba(texts)):
        np.testing.assert_array_equal(task_before, task_after)


def test_a_model_in_use_is_never_loaded_twice(tmp_path):
    from stancekit.classifiers.tfidf import TfidfClassifier
    from stancekit.registry import KEPT_MODELS

    from conftest import TINY_TRAIN

    model = TfidfClassifier(min_df=1).fit([t for t, _, _ in TINY_TRAIN], [[s, c] for _, s, c in TINY_TRAIN])
    folders = [model.save(tmp_path / f"m{number}") for number in range(KEPT_MODELS + 2)]
    held = load_model(folders[0])
    others = [id(load_model(folder)) for folder in folders[1:]]  # more than are kept when no one holds them
    assert load_model(folders[0]) is held
    assert len(set(others)) == len(others)


def test_unknown_model_name_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="unknown model 'nonesuch'.*tfidf"):
        classify("text", model="nonesuch")
    with pytest.raises(ModelError, match="not a stancekit model folder"):
        load_model(tmp_path)


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, stancekit; heavy = [m for m in ('torch', 'transformers', 'sklearn', 'datasets', "
            "'numpy', 'scipy') if m in sys.modules]; print(','.join(heavy)); "
            "from stancekit import classify_dask; print(classify_dask.__module__, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["", "stancekit.jobs.dask_engine False"]
    assert stancekit.__version__


def test_classify_takes_series_arrays_and_generators():
    import pandas

    texts = ["The parliament meets on Sunday.", "Death to the dictator! #IranRevolution"]
    expected = [(p.stance, p.claim_type) for p in classify(texts, model="tfidf")]
    for given in (pandas.Series(texts, index=[10, 20]), np.array(texts), tuple(texts)):
        result = classify(given, model="tfidf")
        assert isinstance(result, list) and [(p.stance, p.claim_type) for p in result] == expected

    pulled = []

    def lines():
        for text in texts * 3:
            pulled.append(text)
            yield text

    lazy = classify(lines(), model="tfidf", batch_size=2)
    assert pulled == []  # nothing is read before the first prediction is asked for
    first = next(lazy)
    assert len(pulled) == 2 and (first.stance, first.claim_type) == expected[0]
    assert [(p.stance, p.claim_type) for p in lazy] == (expected * 3)[1:]
    with pytest.raises(TypeError, match="position 3 is of type float"):
        list(classify(iter(texts + ["ok", float("nan")]), model="tfidf", batch_size=2))


def test_classify_frame_adds_columns_and_keeps_the_frame():
    import pandas

    frame = pandas.DataFrame({"body": ["The parliament meets on Sunday.", "Join the strike!"],
                              "claim_type": ["none", "mobilization"]}, index=["a", "b"])
    with pytest.raises(ValueError, match="already has column.*claim_type"):
        stancekit.classify_frame(frame, text_column="body", model="tfidf")
    labeled = stancekit.classify_frame(frame, text_column="body", model="tfidf", prefix="pred_")
    assert list(labeled.index) == ["a", "b"]
    assert labeled["claim_type"].tolist() == ["none", "mobilization"]
    singles = classify(frame["body"], model="tfidf")
    assert labeled["pred_stance"].tolist() == [p.stance for p in singles]
    assert labeled["pred_stance_score_regime"].tolist() == pytest.approx([p.stance_scores["regime"] for p in singles])
    assert {"pred_claim_confidence", "pred_model", "pred_truncated"} <= set(labeled.columns)
    with pytest.raises(ValueError, match="no column 'text'"):
        stancekit.classify_frame(frame, model="tfidf")
