"""The transformer model: a tiny real fine-tuning run, save → load, truncation, safe loading, the shipped model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stancekit.artifacts import write_manifest
from stancekit.classifiers.transformer import TransformerClassifier
from stancekit.errors import ModelError
from stancekit.registry import resolve

from conftest import TINY_TRAIN

SHIPPED = resolve("transformer")

TRAIN = TINY_TRAIN

KNOWN = [  # unambiguous sentences the shipped model must get right
    ("The martyr Soleimani is alive forever.", "regime", "glorification"),
    ("The regime executed two more young protesters at dawn after sham trials.", "opposition", "repression"),
    ("The meeting will take place in Vienna on Tuesday.", "neutral", "none"),
]


def dev_set(texts: list[str], labels: list) -> tuple[list[str], list]:
    """The texts and labels repeated up to the fewest dev records that calibration uses."""
    from stancekit.classifiers.calibration import minimum_split_records

    copies = -(-minimum_split_records() // len(texts))
    return texts * copies, labels * copies


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A model fine-tuned for two epochs on the made-up sentences, saved and loaded again."""
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    model = TransformerClassifier(epochs=2, batch_size=4, trainable_layers=1, max_length=32,
                                  learning_rate=1e-3, head_learning_rate=1e-2, seed=3)
    model.fit(texts, labels, validation=dev_set(texts, labels), quiet=True)
    folder = model.save(tmp_path_factory.mktemp("models") / "tiny", card="# tiny")
    return model, TransformerClassifier.load(folder), folder, texts


def fine_tune(texts, targets, validation=None, checkpoint=None, **params):
    """A small fp32 model (stored in float32, so training and inference compute the same numbers)."""
    settings = dict(epochs=2, batch_size=4, trainable_layers=1, max_length=32, learning_rate=1e-3,
                    head_learning_rate=1e-2, seed=3, precision="fp32", weights_dtype="float32")
    return TransformerClassifier(**{**settings, **params}).fit(texts, targets, validation=validation, quiet=True,
                                                               checkpoint=checkpoint)


def test_early_stopping_keeps_the_best_epoch_by_the_shared_macro_f1():
    from stancekit.metrics import macro_f1

    texts = [t for t, _, _ in TRAIN]
    labels = np.array([[s, c] for _, s, c in TRAIN], dtype=object)
    dev = (texts[::3], labels[::3])
    model = fine_tune(texts, labels, validation=dev, epochs=8, patience=2)
    history = model.history_
    means = [record["dev_macro_f1_mean"] for record in history]
    best_epoch = int(np.argmax(means))
    # an epoch is "best" when it beats every earlier one; training stops `patience` epochs after the last
    assert [record["best"] for record in history] == [m > max(means[:i], default=-1) for i, m in enumerate(means)]
    assert len(history) == min(8, best_epoch + 1 + 2)
    # the kept weights are the best epoch's, and its recorded score is evaluate.macro_f1 of their predictions
    predicted = model.predict(dev[0])
    for column, task in enumerate(("stance", "claim_type")):
        assert history[best_epoch][f"dev_macro_f1_{task}"] == pytest.approx(
            macro_f1(dev[1][:, column], predicted[:, column]))


def test_one_hot_targets_train_the_same_model_as_labels():
    texts = [t for t, _, _ in TRAIN]
    labels = np.array([[s, c] for _, s, c in TRAIN], dtype=object)
    one_hot = [(labels[:, [column]] == classes).astype(np.float32)
               for column, classes in enumerate(TransformerClassifier().classes_)]
    from_labels = fine_tune(texts, labels, validation=(texts[:6], labels[:6]))
    from_targets = fine_tune(texts, one_hot, validation=(texts[:6], [t[:6] for t in one_hot]))
    assert (from_labels.predict(texts) == from_targets.predict(texts)).all()
    for a, b in zip(from_labels.predict_proba(texts), from_targets.predict_proba(texts)):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_soft_targets_train():
    """Distillation: the student learns the labels its soft targets favour."""
    texts = [t for t, _, _ in TRAIN]
    rng = np.random.default_rng(0)
    classes = TransformerClassifier().classes_
    favoured = [rng.integers(len(c), size=len(texts)) for c in classes]
    soft = [np.full((len(texts), len(c)), 0.3 / (len(c) - 1)) for c in classes]
    for targets, index in zip(soft, favoured):
        targets[np.arange(len(texts)), index] = 0.7
    student = fine_tune(texts, soft, epochs=6)
    losses = [record["loss"] for record in student.history_]
    assert losses[-1] < losses[0] - 0.5  # the floor, the targets' entropy, is about 2.1
    for column, (c, index) in enumerate(zip(classes, favoured)):
        assert (student.predict(texts)[:, column] == c[index]).mean() >= 0.9


def test_clone_and_not_fitted(tiny):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    _, loaded, _, _ = tiny
    copy = clone(loaded)
    assert copy.get_params() == loaded.get_params()
    with pytest.raises(NotFittedError):
        copy.predict_proba(["a text"])


def test_save_load_gives_identical_probabilities(tiny):
    model, loaded, folder, texts = tiny
    for before, after in zip(model.predict_proba(texts), loaded.predict_proba(texts)):
        assert before.dtype == np.float32
        np.testing.assert_array_equal(before, after)
        np.testing.assert_allclose(before.sum(axis=1), 1, atol=1e-5)
    assert sorted(p.name for p in folder.iterdir()) == [
        "MODEL_CARD.md", "config.json", "manifest.json", "weights.safetensors"]
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))


def test_scores_do_not_depend_on_the_batch(tiny):
    _, loaded, _, texts = tiny
    whole = loaded.predict_proba(texts)
    for text_index in (0, 5):
        alone = loaded.predict_proba([texts[text_index]])
        for task in range(2):
            np.testing.assert_allclose(alone[task][0], whole[task][text_index], atol=1e-5)


def test_truncation_is_counted(tiny):
    _, loaded, _, _ = tiny
    texts = ["The protests continue in Tehran. " * 40, "A short sentence.", "",
             "The strike spreads. " * 5000]  # the last one is long enough to be cut before tokenizing
    scores = loaded.predict_scores(texts)
    assert scores.truncated.tolist() == [True, False, False, True]
    assert all(np.isfinite(p).all() for p in scores.probabilities)


def test_non_string_input_raises_type_error(tiny):
    _, loaded, _, _ = tiny
    with pytest.raises(TypeError, match="position 1"):
        loaded.predict(["fine", 3])
    with pytest.raises(TypeError):
        loaded.predict("a single string")
    assert loaded.predict([]).shape == (0, 2)


def test_another_base_encoder_is_refused(tiny, tmp_path):
    _, _, folder, _ = tiny
    import shutil

    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    config = json.loads((copy / "config.json").read_text())
    config["settings"]["base"]["config_sha256"] = "0" * 64
    (copy / "config.json").write_text(json.dumps(config))
    write_manifest(copy)
    with pytest.raises(ModelError, match="base encoder"):
        TransformerClassifier.load(copy)


def test_damaged_weights_are_refused(tiny, tmp_path):
    _, _, folder, _ = tiny
    import shutil

    copy = Path(shutil.copytree(folder, tmp_path / "copy"))
    with open(copy / "weights.safetensors", "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="checksum"):
        TransformerClassifier.load(copy)


def test_shipped_model_loads_offline_and_labels_known_sentences():
    code = ("import json, sys; from stancekit.classifiers.transformer import TransformerClassifier; "
            f"m = TransformerClassifier.load({str(SHIPPED)!r}); "
            "print(json.dumps([list(r) for r in m.predict(json.loads(sys.stdin.read()))]))")
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin",
           "HF_HOME": "/nonexistent-hf-home"}
    process = subprocess.run([sys.executable, "-c", code], input=json.dumps([t for t, _, _ in KNOWN]),
                             capture_output=True, text=True, env=env, timeout=120)
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout.strip().splitlines()[-1]) == [[s, c] for _, s, c in KNOWN]
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) <= 25 * 1024 * 1024


def test_validation_set_calibrates_a_temperature_per_task(tiny):
    """The temperature minimises the dev log-loss and is what predict_proba divides the logits by."""
    from stancekit.classifiers.calibration import softmax

    model, loaded, _, texts = tiny
    assert loaded.temperature_ == pytest.approx(model.temperature_)
    dev_texts, dev_labels = dev_set(texts, [[s, c] for _, s, c in TRAIN])  # the fixture's validation set
    logits, _ = model.logits(dev_texts)
    for column, (task, classes) in enumerate(zip(("stance", "claim_type"), model.classes_)):
        gold = np.array([list(classes).index(row[column]) for row in dev_labels])

        def log_loss(temperature):
            return -np.log(softmax(logits[column] / temperature)[np.arange(len(gold)), gold] + 1e-12).mean()

        temperature = model.temperature_[task]
        assert temperature != pytest.approx(1.0)
        for other in (temperature * 0.8, temperature * 1.25, 1.0):
            if 0.05 <= other <= 20.0:  # the range the temperature is searched in
                assert log_loss(temperature) <= log_loss(other) + 1e-6
    for task, (task_logits, probabilities) in enumerate(zip(loaded.logits(texts)[0], loaded.predict_proba(texts))):
        expected = softmax(task_logits / loaded.temperature_[("stance", "claim_type")[task]])
        np.testing.assert_allclose(probabilities, expected, atol=1e-6)


def test_length_grouped_batches_cover_every_text_once_with_similar_lengths():
    from stancekit.classifiers.transformer_training import length_grouped_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000)
    batches = length_grouped_batches(lengths, 16, np.random.default_rng(1), chunk_batches=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    # padding to each batch's longest text wastes far less than random batches of the same size
    grouped_padding = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    shuffled = np.random.default_rng(1).permutation(1000)
    random_padding = sum(lengths[b].max() * len(b) - lengths[b].sum()
                         for b in (shuffled[i:i + 16] for i in range(0, 1000, 16)))
    assert grouped_padding < random_padding / 4
    # and two epochs see different batches
    again = length_grouped_batches(lengths, 16, np.random.default_rng(2), chunk_batches=10)
    assert {tuple(sorted(b)) for b in batches} != {tuple(sorted(b)) for b in again}


def test_training_precision_is_recorded_and_bf16_refused_where_unsupported(monkeypatch, tmp_path):
    from stancekit.classifiers import encoders

    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    model = fine_tune(texts, labels, epochs=1)
    expected = "bf16" if encoders.bf16_supported(model.torch_device()) else "fp32"
    assert model.training_precision_ == expected
    assert {record["precision"] for record in model.history_} == {expected}
    folder = model.save(tmp_path / "m")
    assert TransformerClassifier.load(folder).training_precision_ == expected
    monkeypatch.setattr(encoders, "bf16_supported", lambda device: False)
    with pytest.raises(ModelError, match="no native bfloat16"):
        fine_tune(texts, labels, epochs=1, training_precision="bf16")
    assert fine_tune(texts, labels, epochs=1).training_precision_ == "fp32"


def test_a_killed_fit_resumes_from_its_checkpoint_to_the_same_model(monkeypatch, tmp_path):
    """Killed after epoch 2 of 3, a fit with the same checkpoint folder finishes as an uninterrupted fit."""
    from stancekit.classifiers import transformer_training

    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    dev = (texts[::2], labels[::2])
    settings = dict(epochs=3, patience=5, dropout=0.2)
    uninterrupted = fine_tune(texts, labels, validation=dev, **settings)

    saved_epochs = []
    original = transformer_training.save_checkpoint

    def save_then_die(folder, checkpoint):
        original(folder, checkpoint)
        saved_epochs.append(checkpoint.state["epoch"])
        if checkpoint.state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(transformer_training, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(texts, labels, validation=dev, checkpoint=tmp_path / "ckpt", **settings)
    monkeypatch.setattr(transformer_training, "save_checkpoint", original)
    resumed = fine_tune(texts, labels, validation=dev, checkpoint=tmp_path / "ckpt", **settings)
    assert saved_epochs == [1, 2]
    assert [r["epoch"] for r in resumed.history_] == [1, 2, 3]
    for before, after in zip(uninterrupted.history_, resumed.history_):
        assert after["loss"] == before["loss"]
        assert after["dev_macro_f1_mean"] == before["dev_macro_f1_mean"]
    for a, b in zip(uninterrupted.predict_proba(texts), resumed.predict_proba(texts)):
        np.testing.assert_array_equal(a, b)
    # another run's checkpoint is refused, naming what differs
    with pytest.raises(ModelError, match="training or dev data differ"):
        fine_tune(texts[:-1], labels[:-1], validation=dev, checkpoint=tmp_path / "ckpt", **settings)
    with pytest.raises(ModelError, match="model settings differ"):
        fine_tune(texts, labels, validation=dev, checkpoint=tmp_path / "ckpt", **{**settings, "dropout": 0.3})
