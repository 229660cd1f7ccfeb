"""The ensemble: members fitted through the real training code, weights chosen on dev, save → load."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from stancekit.artifacts import model_digest, write_manifest
from stancekit.classifiers.ensemble import EnsembleClassifier
from stancekit.classifiers.tfidf import TfidfClassifier
from stancekit.classifiers.transformer import TransformerClassifier
from stancekit.data import corpus_files
from stancekit.errors import ModelError
from stancekit.registry import load_model, resolve

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


def test_fit_trains_clones_and_leaves_the_members_parameter_alone(tiny):
    model, _, _ = tiny
    for name, member in model.members.items():
        with pytest.raises(NotFittedError):
            check_is_fitted(member)
        check_is_fitted(model.members_[name])


def test_save_load_round_trip_is_exact_and_members_load_through_the_cache(tiny):
    model, folder, texts = tiny
    loaded = load_model(folder)
    for before, after in zip(model.predict_proba(texts), loaded.predict_proba(texts)):
        np.testing.assert_allclose(before, after, atol=1e-6)
    assert (loaded.predict(texts) == model.predict(texts)).all()
    # freshly trained members are saved inside the ensemble and referred to by relative path
    references = json.loads((folder / "config.json").read_text())["fitted"]["members"]
    assert {name: r["path"] for name, r in references.items()} == {
        "transformer": "members/transformer", "tfidf": "members/tfidf"}
    assert loaded.members_["tfidf"] is load_model(folder / "members" / "tfidf")


def test_probabilities_are_distributions_and_labels_their_most_probable(tiny):
    model, _, texts = tiny
    probabilities = model.predict_proba(texts + ["", "unseen words only"])
    for task_probabilities in probabilities:
        assert np.all(task_probabilities >= 0)
        np.testing.assert_allclose(task_probabilities.sum(axis=1), 1, atol=1e-5)
    assert (model.labels_from(probabilities) == model.predict(texts + ["", "unseen words only"])).all()


def _labels_of(texts, labels):
    return TfidfClassifier(min_df=1, C=100.0).fit(texts, labels)


def test_the_weights_favour_the_member_that_is_right_on_dev():
    texts = [t for t, _, _ in TINY_TRAIN]
    right = [[s, c] for _, s, c in TINY_TRAIN]
    wrong = right[4:] + right[:4]  # every text with labels of a text of another kind
    members = {"right": _labels_of(texts, right), "wrong": _labels_of(texts, wrong)}
    assert (members["wrong"].predict(texts) != np.array(right, dtype=object)).any(axis=1).all()
    ensemble = EnsembleClassifier(members=members, weight_grid=(0.1, 0.9)).combine(texts, right)
    assert ensemble.weights_ == {"right": 0.9, "wrong": pytest.approx(0.1)}
    assert (ensemble.predict(texts) == members["right"].predict(texts)).all()
    led_by_the_wrong_one = EnsembleClassifier(members={"wrong": members["wrong"], "right": members["right"]},
                                              weight_grid=(0.1, 0.9)).combine(texts, right)
    assert led_by_the_wrong_one.weights_["right"] == pytest.approx(0.9)


def test_all_weight_on_one_member_labels_as_that_member():
    texts = [t for t, _, _ in TINY_TRAIN]
    labels = [[s, c] for _, s, c in TINY_TRAIN]
    first, second = _labels_of(texts, labels), _labels_of(texts[::-1], labels)
    ensemble = EnsembleClassifier(members={"first": first, "second": second}, weight_grid=(1.0,)).combine(texts, labels)
    probe = texts + ["The strike goes on in Tehran", "Glory to the nation"]
    assert (ensemble.predict(probe) == first.predict(probe)).all()


def test_an_ensemble_needs_members():
    with pytest.raises(ValueError, match=r"make_model\('ensemble'\)"):
        EnsembleClassifier().fit(["a b"], [["neutral", "none"]], validation=(["a b"], [["neutral", "none"]]))


def test_an_ensemble_needs_a_validation_set():
    with pytest.raises(ValueError, match="validation set"):
        EnsembleClassifier(members={"tfidf": TfidfClassifier(min_df=1)}).fit(["a b"], [["neutral", "none"]])


def test_tampered_member_is_refused(tiny, tmp_path):
    _, folder, _ = tiny
    copy = shutil.copytree(folder, tmp_path / "copy")
    weights = copy / "members" / "tfidf" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(ModelError, match="checksum"):
        load_model(copy)


def test_a_member_that_changed_since_saving_is_refused_with_both_hashes(tiny, tmp_path):
    _, folder, _ = tiny
    copy = shutil.copytree(folder, tmp_path / "copy")
    member = copy / "members" / "tfidf"
    expected = json.loads((copy / "config.json").read_text())["fitted"]["members"]["tfidf"]["sha256"]
    (member / "MODEL_CARD.md").write_text("# retrained\n")
    write_manifest(member)  # a consistent member folder, but not the one the ensemble was fitted with
    found = model_digest(member)
    with pytest.raises(ModelError) as error:
        EnsembleClassifier.load(copy, loader=load_model)
    message = str(error.value)
    assert "\n" not in message
    assert "ensemble member 'tfidf'" in message and expected in message and found in message
    assert "retrain the ensemble" in message


def test_shipped_ensemble_refers_to_the_shipped_members_and_shares_them():
    folder = resolve("ensemble")
    assert not (folder / "members").exists()
    references = json.loads((folder / "config.json").read_text())["fitted"]["members"]
    for name, reference in references.items():
        assert reference["name"] == name
        assert reference["sha256"] == hashlib.sha256((resolve(name) / "manifest.json").read_bytes()).hexdigest()
    ensemble = load_model("ensemble")
    assert ensemble.members_["transformer"] is load_model("transformer")
    assert ensemble.members_["tfidf"] is load_model("tfidf")


def test_combining_shipped_models_refers_to_them_by_name(tmp_path):
    texts = [t for t, _, _ in TINY_TRAIN]
    labels = [[s, c] for _, s, c in TINY_TRAIN]
    members = {"transformer": load_model("transformer"), "tfidf": load_model("tfidf")}
    model = EnsembleClassifier(members=members, weight_grid=(0.5,)).combine(texts, labels)
    folder = model.save(tmp_path / "combined")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "manifest.json"]
    references = json.loads((folder / "config.json").read_text())["fitted"]["members"]
    assert {name: r["name"] for name, r in references.items()} == {"transformer": "transformer", "tfidf": "tfidf"}
    loaded = load_model(folder)
    for before, after in zip(model.predict_proba(texts), loaded.predict_proba(texts)):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ModelError, match="loads its members through a model loader"):
        EnsembleClassifier.load(folder)


def test_clone_of_the_shipped_ensemble_is_unfitted():
    from sklearn.base import clone

    copy = clone(load_model("ensemble"))
    assert set(copy.members) == {"transformer", "tfidf"}
    with pytest.raises(NotFittedError):
        copy.predict(["a text"])


def test_shipped_ensemble_labels_known_sentences():
    model = load_model("ensemble")
    labels = model.predict(["The martyr Soleimani is alive forever.",
                            "The regime executed two more young protesters at dawn after sham trials.",
                            "The meeting will take place in Vienna on Tuesday."])
    assert [list(row) for row in labels] == [["regime", "glorification"], ["opposition", "repression"],
                                             ["neutral", "none"]]


def test_train_members_combines_shipped_models_through_the_cli(cli, tmp_path):
    corpus = [str(p) for p in corpus_files()]
    process = cli("train", "--model", "ensemble", "--members", "tfidf", "transformer", "--out", "ens",
                  "--data", *corpus, "--param", "weight_grid=[0.6]")
    assert process.returncode == 0, process.stderr
    config = json.loads((tmp_path / "ens" / "config.json").read_text(encoding="utf-8"))
    assert sorted(config["fitted"]["members"]) == ["tfidf", "transformer"]
    assert not (tmp_path / "ens" / "members").exists()
    assert cli("classify", "-", "--model", "ens", stdin="Death to the dictator!\n").returncode == 0
    process = cli("train", "--model", "tfidf", "--members", "tfidf", "--out", "x", "--data", *corpus)
    assert process.returncode == 2 and "--members combines trained models into an ensemble" in process.stderr
