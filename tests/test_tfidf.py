"""The TF-IDF model: hashed n-gram features, fit → save → load round trip, safe loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancekit.classifiers.hashed_ngrams import HashedCharNgramVectorizer, HashedWordNgramVectorizer
from stancekit.classifiers.tfidf import TfidfClassifier
from stancekit.errors import ModelError, SchemeVersionError

from conftest import TINY_TRAIN

TRAIN = TINY_TRAIN[:10]


def words_of(vectorizer, text):
    rows, buckets = vectorizer._buckets([text])
    return set(buckets.tolist())


def test_word_ngrams_ignore_case_and_punctuation_but_keep_hashtags():
    vectorizer = HashedWordNgramVectorizer((1, 1), min_df=1)
    assert words_of(vectorizer, "Iran!") == words_of(vectorizer, "iran") == words_of(vectorizer, "(IRAN)")
    assert words_of(vectorizer, "#Iran") != words_of(vectorizer, "Iran")
    assert words_of(vectorizer, "a b c") == set()  # single characters are not words
    assert len(words_of(vectorizer, "death to the dictator")) == 4
    bigrams = HashedWordNgramVectorizer((2, 2), min_df=1)
    assert len(words_of(bigrams, "death to the dictator")) == 3
    assert words_of(bigrams, "death to") != words_of(bigrams, "to death")


def test_ngrams_never_cross_text_boundaries():
    for vectorizer in (HashedWordNgramVectorizer((1, 2), min_df=1), HashedCharNgramVectorizer((2, 5), min_df=1)):
        together = vectorizer._buckets(["strike now", "tehran bazaar"])
        apart = [vectorizer._buckets([t])[1] for t in ("strike now", "tehran bazaar")]
        assert together[1][together[0] == 0].tolist() == apart[0].tolist()
        assert together[1][together[0] == 1].tolist() == apart[1].tolist()


def test_char_ngram_counts():
    vectorizer = HashedCharNgramVectorizer((2, 3), min_df=1)
    rows, buckets = vectorizer._buckets(["abcd"])
    assert len(buckets) == 3 + 2  # ab bc cd, abc bcd


def test_transform_rows_are_unit_length_and_unknown_text_is_zero():
    vectorizer = HashedCharNgramVectorizer(min_df=1).fit(["the regime", "the people"])
    matrix = vectorizer.transform(["the regime", "zzzz", ""])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert norms[0] == pytest.approx(1, abs=1e-6)
    assert norms[1] == 0 and norms[2] == 0


def fitted():
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    return TfidfClassifier(min_df=1).fit(texts, labels), texts, labels


def test_fit_save_load_predict_round_trip(tmp_path):
    model, texts, labels = fitted()
    assert [list(row) for row in model.predict(texts)] == labels
    model.save(tmp_path / "m", card="# card")
    loaded = TfidfClassifier.load(tmp_path / "m")
    for before, after in zip(model.predict_proba(texts), loaded.predict_proba(texts)):
        np.testing.assert_array_equal(before, after)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "MODEL_CARD.md", "config.json", "manifest.json", "weights.safetensors"]


def test_training_is_deterministic():
    first, texts, _ = fitted()
    second, _, _ = fitted()
    for a, b in zip(first.predict_proba(texts), second.predict_proba(texts)):
        np.testing.assert_array_equal(a, b)


def test_validation_set_chooses_C_per_task():
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    model = TfidfClassifier(min_df=1, C_grid=(0.1, 10.0)).fit(texts, labels, validation=(texts, labels))
    assert set(model.C) == {"stance", "claim_type"}
    assert all(c in (0.1, 10.0) for c in model.C.values())


def test_labels_unseen_in_training_get_near_zero_probability():
    model, texts, _ = fitted()
    claims = list(model.classes_[1])
    probabilities = model.predict_proba(["anything at all"])[1][0]
    assert probabilities[claims.index("economic")] < 1e-6


def test_tampered_or_truncated_weights_are_refused(tmp_path):
    model, _, _ = fitted()
    folder = model.save(tmp_path / "m")
    weights = folder / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="weights.safetensors: checksum mismatch"):
        TfidfClassifier.load(folder)
    weights.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(ModelError, match="checksum mismatch"):
        TfidfClassifier.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ModelError, match="manifest"):
        TfidfClassifier.load(folder)


def test_model_for_another_scheme_version_is_refused(tmp_path):
    from stancekit.artifacts import write_manifest

    model, _, _ = fitted()
    folder = model.save(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["scheme_version"] = "0.7"
    (folder / "config.json").write_text(json.dumps(config))
    write_manifest(folder)
    with pytest.raises(SchemeVersionError, match="label scheme 0.7.*label scheme 1.0"):
        TfidfClassifier.load(folder)


def test_overlong_text_is_truncated_and_counted():
    model, _, _ = fitted()
    scores = model.score(["short", "x" * (model.max_chars + 1)])
    assert scores.truncated.tolist() == [False, True]


def test_bad_labels_are_rejected():
    with pytest.raises(ValueError, match="unknown stance labels: royalist"):
        TfidfClassifier().fit(["a text"], [["royalist", "none"]])


def test_validation_set_fits_a_temperature_per_task(tmp_path):
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    model = TfidfClassifier(min_df=1).fit(texts, labels, validation=(texts[::-1], labels[::-1]))
    assert set(model.temperature_) == {"stance", "claim_type"}
    assert all(t > 0 and t != 1.0 for t in model.temperature_.values())
    loaded = TfidfClassifier.load(model.save(tmp_path / "m"))
    assert loaded.temperature_ == pytest.approx(model.temperature_)
    assert TfidfClassifier(min_df=1).fit(texts, labels).temperature_ == {"stance": 1.0, "claim_type": 1.0}
