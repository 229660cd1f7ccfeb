"""The ensemble: members fitted through the real training code, weights chosen on dev, save → load."""

from __future__ import annotations

import numpy as np
import pytest

from stancekit.classifiers.ensemble import EnsembleClassifier
from stancekit.classifiers.tfidf import TfidfClassifier
from stancekit.classifiers.transformer import TransformerClassifier
from stancekit.registry import DEFAULT_MODEL, load_model

from conftest import TINY_TRAIN


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    texts = [t for t, _, _ in TINY_TRAIN]
    labels = [[s, c] for _, s, c in TINY_TRAIN]
    members = {"transformer": TransformerClassifier(epochs=1, batch_size=4, trainable_layers=1, max_length=32),
               "tfidf": TfidfClassifier(min_df=1)}
    model = EnsembleClassifier(members=members, weight_grid=(0.2, 0.8))
    model.fit(texts, labels, validation=(texts, labels), quiet=True)
    folder = model.save(tmp_path_factory.mktemp("models") / "ensemble", card="# tiny ensemble")
    return model, folder, texts


def test_weights_come_from_the_grid_and_sum_to_one(tiny):
    model, _, _ = tiny
    assert model.weights_["transformer"] in (0.2, 0.8)
    assert sum(model.weights_.values()) == pytest.approx(1)
    assert set(model.temperature_) == {"stance", "claim_type"}


def test_save_load_round_trip_is_exact_and_self_contained(tiny):
    model, folder, texts = tiny
    loaded = EnsembleClassifier.load(folder)
    for before, after in zip(model.predict_proba(texts), loaded.predict_proba(texts)):
        np.testing.assert_allclose(before, after, atol=1e-6)
    assert sorted(p.name for p in (folder / "members").iterdir()) == ["tfidf", "transformer"]
    assert (loaded.predict(texts) == model.predict(texts)).all()


def test_probabilities_combine_the_members(tiny):
    model, _, texts = tiny
    member_probabilities = {name: m.predict_proba(texts) for name, m in model.members.items()}
    for task, probabilities in enumerate(model.predict_proba(texts)):
        logits = sum(model.weights_[name] * np.log(p[task] + 1e-9) for name, p in member_probabilities.items())
        expected = np.exp(logits / model.temperature_[("stance", "claim_type")[task]])
        np.testing.assert_allclose(probabilities, expected / expected.sum(axis=1, keepdims=True), atol=1e-5)


def test_an_ensemble_needs_a_validation_set():
    with pytest.raises(ValueError, match="validation set"):
        EnsembleClassifier(members={"tfidf": TfidfClassifier(min_df=1)}).fit(["a b"], [["neutral", "none"]])


def test_tampered_member_is_refused(tiny, tmp_path):
    import shutil

    from stancekit.errors import ModelError

    _, folder, _ = tiny
    copy = shutil.copytree(folder, tmp_path / "copy")
    weights = copy / "members" / "tfidf" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ModelError, match="checksum"):
        EnsembleClassifier.load(copy)


def test_shipped_ensemble_is_the_default_and_labels_known_sentences():
    assert DEFAULT_MODEL == "ensemble"
    model = load_model("ensemble")
    labels = model.predict(["The martyr Soleimani is alive forever.",
                            "The regime executed two more young protesters at dawn after sham trials.",
                            "The meeting will take place in Vienna on Tuesday."])
    assert [list(row) for row in labels] == [["regime", "glorification"], ["opposition", "repression"],
                                             ["neutral", "none"]]
