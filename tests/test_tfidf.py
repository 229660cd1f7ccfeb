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
    assert set(model.C_) == {"stance", "claim_type"}
    assert all(c in (0.1, 10.0) for c in model.C_.values())
    assert model.C == 10.0  # the constructor parameter is left as it was


def test_C_is_chosen_by_the_shared_macro_f1_on_dev():
    from stancekit.metrics import macro_f1

    texts = [t for t, _, _ in TINY_TRAIN]
    labels = np.array([[s, c] for _, s, c in TINY_TRAIN], dtype=object)
    train, dev = slice(0, 12, 2), slice(1, 12, 2)
    grid = (0.01, 1.0, 100.0)
    model = TfidfClassifier(min_df=1, C_grid=grid).fit(texts[train], labels[train],
                                                      validation=(texts[dev], labels[dev]))
    for column, task in enumerate(("stance", "claim_type")):
        f1 = [macro_f1(labels[dev][:, column],
                       TfidfClassifier(min_df=1, C=C).fit(texts[train], labels[train]).predict(texts[dev])[:, column])
              for C in grid]
        assert model.C_[task] == grid[int(np.argmax(f1))]


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
    scores = model.predict_scores(["short", "x" * (model.max_chars + 1)])
    assert scores.truncated.tolist() == [False, True]


def test_bad_labels_are_rejected():
    with pytest.raises(ValueError, match="unknown stance labels: royalist"):
        TfidfClassifier().fit(["a text"], [["royalist", "none"]])


def test_validation_set_fits_a_temperature_per_task(tmp_path):
    from stancekit.classifiers.calibration import minimum_split_records

    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    copies = -(-minimum_split_records() // len(texts))  # a dev set of at least the minimum
    model = TfidfClassifier(min_df=1).fit(texts, labels, validation=(texts[::-1] * copies, labels[::-1] * copies))
    assert set(model.temperature_) == {"stance", "claim_type"}
    assert all(t > 0 and t != 1.0 for t in model.temperature_.values())
    loaded = TfidfClassifier.load(model.save(tmp_path / "m"))
    assert loaded.temperature_ == pytest.approx(model.temperature_)
    unfitted = {"stance": 1.0, "claim_type": 1.0}
    assert TfidfClassifier(min_df=1).fit(texts, labels).temperature_ == unfitted
    assert TfidfClassifier(min_df=1).fit(texts, labels, validation=(texts, labels)).temperature_ == unfitted


def test_clone_of_the_shipped_model_is_an_unfitted_copy_that_fits():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from stancekit import load_model

    shipped = load_model("tfidf")
    check_is_fitted(shipped)
    copy = clone(shipped)
    assert copy.get_params() == shipped.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(["a text"])
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    copy.set_params(min_df=1, C_grid=(1.0,))
    params = copy.get_params()
    copy.fit(texts, labels, validation=(texts, labels))
    assert copy.get_params() == params  # fit leaves every constructor parameter as it was
    assert clone(copy).get_params() == params
    assert copy.score(texts, labels) == 1.0


def test_one_hot_targets_train_exactly_the_model_trained_on_labels():
    texts = [t for t, _, _ in TINY_TRAIN]
    labels = np.array([[s, c] for _, s, c in TINY_TRAIN], dtype=object)
    one_hot = [(labels[:, [column]] == classes).astype(float)
               for column, classes in enumerate(TfidfClassifier().classes_)]
    from_labels = TfidfClassifier(min_df=1).fit(texts, labels, validation=(texts, labels))
    from_targets = TfidfClassifier(min_df=1).fit(texts, one_hot, validation=(texts, one_hot))
    for a, b in zip(from_labels.predict_proba(texts + ["unseen words"]),
                    from_targets.predict_proba(texts + ["unseen words"])):
        np.testing.assert_array_equal(a, b)
    assert from_labels.C_ == from_targets.C_


def test_soft_targets_train_towards_the_target_distribution():
    """Distillation: a student fitted on a teacher's probabilities puts its mass where the teacher does."""
    texts = [t for t, _, _ in TINY_TRAIN]
    labels = [[s, c] for _, s, c in TINY_TRAIN]
    teacher = TfidfClassifier(min_df=1, C=100.0).fit(texts, labels)
    smoothed = [0.7 * p + 0.3 / p.shape[1] for p in teacher.predict_proba(texts)]  # label smoothing
    student = TfidfClassifier(min_df=1, C=100.0).fit(texts, smoothed)
    assert (student.predict(texts) == teacher.predict(texts)).all()
    # the smoothed targets leave mass on every label: the student is less sure than the teacher
    for teacher_p, student_p in zip(teacher.predict_proba(texts), student.predict_proba(texts)):
        assert (student_p.max(axis=1) < teacher_p.max(axis=1)).all()
        assert (student_p.min(axis=1) > teacher_p.min(axis=1)).all()


@pytest.mark.parametrize("targets, message", [
    ([np.full((10, 3), 1 / 3), np.full((10, 9), 1 / 9)], r"claim_type target probabilities must have shape \(10, 10\)"),
    ([np.full((9, 3), 1 / 3), np.full((10, 10), 0.1)], r"stance target probabilities must have shape \(10, 3\)"),
    ([np.full((10, 3), 0.3), np.full((10, 10), 0.1)], "stance target probabilities must sum to 1 in every row; row 0 sums to 0.9"),
    ([np.tile([1.5, -0.5, 0.0], (10, 1)), np.full((10, 10), 0.1)], "finite and non-negative"),
])
def test_bad_soft_targets_are_refused_with_a_clear_message(targets, message):
    with pytest.raises(ValueError, match=message):
        TfidfClassifier(min_df=1).fit([t for t, _, _ in TRAIN], targets)


def test_label_rows_must_match_the_texts():
    with pytest.raises(ValueError, match="Y has 2 rows for 3 texts"):
        TfidfClassifier().fit(["a", "b", "c"], [["regime", "none"], ["neutral", "none"]])


def test_hashed_features_match_scikit_learn_tfidf_on_distinct_ngrams():
    """Without repeated n-grams in a text (and without hash collisions) the hashed features are exactly
    scikit-learn's TF-IDF: smoothed IDF, L2-normalised rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["red fox jumps high", "blue dog sleeps now", "red dog runs far", "old fox sleeps late",
             "blue bird flies high", "green frog jumps now", "old elk runs late"]
    for ours, theirs in [
        (HashedWordNgramVectorizer((1, 2), min_df=2), TfidfVectorizer(ngram_range=(1, 2), min_df=2)),
        (HashedCharNgramVectorizer((2, 4), min_df=2), TfidfVectorizer(analyzer="char", ngram_range=(2, 4), min_df=2)),
    ]:
        analyzer = theirs.build_analyzer()
        assert all(len(analyzer(t)) == len(set(analyzer(t))) for t in texts)  # distinct n-grams per text
        expected = theirs.fit_transform(texts).toarray()
        ours.fit(texts)
        # the bucket of each of scikit-learn's n-grams: the n-gram hashed as a text of its own
        kind = type(ours)
        buckets = [kind((len(g.split()),) * 2 if kind is HashedWordNgramVectorizer else (len(g),) * 2,
                        min_df=1)._buckets([g])[1] for g in theirs.get_feature_names_out()]
        assert all(len(b) == 1 for b in buckets)
        buckets = [int(b[0]) for b in buckets]
        assert len(set(buckets)) == len(buckets) == len(ours.buckets_)  # same vocabulary, no collisions
        columns = np.searchsorted(ours.buckets_, buckets)
        np.testing.assert_array_equal(ours.buckets_[columns], buckets)
        np.testing.assert_allclose(ours.transform(texts).toarray()[:, columns], expected, atol=1e-6)


def test_a_model_saved_in_the_old_layout_is_refused_with_a_clear_message(tmp_path):
    from stancekit.artifacts import write_manifest

    model, _, _ = fitted()
    folder = model.save(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["settings"]["C"] = config.pop("fitted")["C"]  # where versions before 0.2 kept the chosen C
    (folder / "config.json").write_text(json.dumps(config))
    write_manifest(folder)
    with pytest.raises(ModelError, match="saved by an older stancekit"):
        TfidfClassifier.load(folder)
