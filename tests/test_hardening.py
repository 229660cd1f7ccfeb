"""Hostile input for both shipped models, and determinism across runs and batch sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from stancekit import classify, classify_document, load_model
from stancekit.labels import get_scheme

SCHEME = get_scheme()
MODELS = ["tfidf", "transformer", "ensemble"]
SCORE_TOLERANCE = 1e-4
"""Scores may differ by this much between batch sizes (padding changes float summation order);
labels never differ."""

HOSTILE = [
    "", "   ", "\n\r\n\t", "🔥🔥 #IranRevolution ✊🏽", "\x00\x01\x02\x1b[31m", "زن، زندگی، آزادی",
    "مرگ بر دیکتاتور", "line one\rline two\r\nline three\nline four", "\u202eoverride\u202c",
    "a" * 100_000, "word " * 20_000, "\ud7ff\ue000\U0010ffff", "İstanbul ǅ ß ﬁ",
]


def assert_normal(prediction):
    assert prediction.stance in SCHEME.stances
    assert prediction.claim_type in SCHEME.claim_types
    assert sum(prediction.stance_scores.values()) == pytest.approx(1, abs=1e-4)
    assert sum(prediction.claim_scores.values()) == pytest.approx(1, abs=1e-4)
    assert all(np.isfinite(list(prediction.stance_scores.values())))


@pytest.mark.parametrize("model", MODELS)
def test_hostile_strings_give_normal_predictions(model):
    predictions = classify(HOSTILE, model=model)
    assert len(predictions) == len(HOSTILE)
    for prediction in predictions:
        assert_normal(prediction)


@pytest.mark.parametrize("model", MODELS)
def test_one_megabyte_string_is_truncated_and_counted(model):
    prediction = classify("The protests continue. " * 45_000, model=model)
    assert_normal(prediction)
    assert prediction.truncated is True
    assert classify("A short sentence.", model=model).truncated is False


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=300), min_size=1, max_size=6))
def test_any_unicode_is_valid_input(model, texts):
    for prediction in classify(texts, model=model):
        assert_normal(prediction)


@settings(max_examples=25, deadline=None)
@given(text=st.text(max_size=2000))
def test_documents_of_any_unicode_split_into_exact_offsets(text):
    document = classify_document(text, model="tfidf")
    for sentence in document.sentences:
        assert text[sentence.start:sentence.end] == sentence.text
        assert sentence.text.strip()


@pytest.mark.parametrize("model", MODELS)
def test_same_labels_across_batch_sizes_and_runs(model):
    from conftest import SEEDS_DIR
    from stancekit.data.segment import split_sentences

    texts = [s.text for path in sorted(SEEDS_DIR.glob("*.txt"))[:2]
             for s in split_sentences(path.read_text(encoding="utf-8"))]
    loaded = load_model(model)
    whole = loaded.predict_proba(texts)
    labels = loaded.predict(texts)
    for batch_size in (1, 7, 32):
        parts = [loaded.predict_proba(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        for task, expected in enumerate(whole):
            np.testing.assert_allclose(np.concatenate([p[task] for p in parts]), expected,
                                       atol=SCORE_TOLERANCE)
        batched = np.concatenate([loaded.predict(texts[i:i + batch_size])
                                  for i in range(0, len(texts), batch_size)])
        assert (batched == labels).all()
    again = loaded.predict_proba(texts)
    for first, second in zip(whole, again):
        np.testing.assert_array_equal(first, second)
