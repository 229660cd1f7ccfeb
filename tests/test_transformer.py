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


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A model fine-tuned for two epochs on the made-up sentences, saved and loaded again."""
    texts = [t for t, _, _ in TRAIN]
    labels = [[s, c] for _, s, c in TRAIN]
    model = TransformerClassifier(epochs=2, batch_size=4, trainable_layers=1, max_length=32,
                                  learning_rate=1e-3, head_learning_rate=1e-2, seed=3)
    model.fit(texts, labels, validation=(texts[:6], labels[:6]), quiet=True)
    folder = model.save(tmp_path_factory.mktemp("models") / "tiny", card="# tiny")
    return model, TransformerClassifier.load(folder), folder, texts


def test_fine_tuning_records_each_epoch_on_dev(tiny):
    model, _, _, _ = tiny
    assert [record["epoch"] for record in model.history_][:1] == [1]
    assert all(0 <= record["dev_macro_f1_mean"] <= 1 for record in model.history_)
    assert sum(record["best"] for record in model.history_) >= 1


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
    scores = loaded.score(texts)
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
    model, loaded, _, texts = tiny
    assert set(model.temperature_) == {"stance", "claim_type"}
    assert all(t > 0 for t in model.temperature_.values())
    assert loaded.temperature_ == pytest.approx(model.temperature_)
    logits, _ = loaded.logits(texts)
    for task, (task_logits, probabilities) in enumerate(zip(logits, loaded.predict_proba(texts))):
        assert (task_logits.argmax(axis=1) == probabilities.argmax(axis=1)).all()
