"""The distilled model: a tiny real student run, its ONNX export, save → load, and scoring without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from stancekit.classifiers.distilled import DistilledClassifier, kept_layers

from conftest import TINY_TRAIN, cli_env

TEXTS = [t for t, _, _ in TINY_TRAIN]
LABELS = [[s, c] for _, s, c in TINY_TRAIN]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """Two of MiniLM's layers, fine-tuned for three epochs on the made-up sentences, saved and loaded."""
    model = DistilledClassifier(layers=2, epochs=3, batch_size=4, max_length=32, learning_rate=1e-3,
                                head_learning_rate=1e-2, seed=3)
    model.fit(TEXTS, LABELS, validation=(TEXTS, LABELS), quiet=True)
    folder = model.save(tmp_path_factory.mktemp("models") / "student")
    return model, DistilledClassifier.load(folder), folder


def test_kept_layers_spread_from_the_first_to_the_last():
    assert kept_layers(6) == [0, 1, 2, 3, 4, 5]
    assert kept_layers(3) == [0, 2, 5] or kept_layers(3) == [0, 3, 5]
    assert kept_layers(2) == [0, 5]
    assert kept_layers(1) == [5]
    with pytest.raises(ValueError):
        kept_layers(7)


def test_the_student_keeps_its_layers_and_learns_the_training_labels(student):
    model, _, _ = student
    assert model.encoder_.config.num_hidden_layers == 2 and len(model.encoder_.encoder.layer) == 2
    assert (model.predict(TEXTS) == np.array(LABELS, dtype=object)).mean() >= 0.75


def test_the_onnx_model_agrees_with_the_pytorch_network(student):
    model, _, _ = student
    served = model.predict_proba(TEXTS)
    model.set_params(runtime="torch")
    try:
        network = model.predict_proba(TEXTS)
    finally:
        model.set_params(runtime="onnx")
    for a, b in zip(served, network):
        assert np.abs(a - b).max() < 0.05  # int8 matrix products against fp32
        assert (a.argmax(axis=1) == b.argmax(axis=1)).mean() >= 0.9


def test_save_load_gives_identical_probabilities_and_files(student):
    model, loaded, folder = student
    texts = TEXTS + ["", "A sentence much longer than thirty-two tokens, " * 4]
    for a, b in zip(model.predict_scores(texts).probabilities, loaded.predict_scores(texts).probabilities):
        np.testing.assert_array_equal(a, b)
    assert loaded.predict_scores(texts).truncated.tolist() == [False] * (len(TEXTS) + 1) + [True]
    manifest = json.loads((folder / "manifest.json").read_text())["sha256"]
    assert {"model.onnx", "tokenizer.json", "weights.safetensors", "config.json"} <= set(manifest)
    assert loaded.temperature_ == pytest.approx(model.temperature_)


def test_a_loaded_student_scores_without_importing_torch_or_transformers(student):
    _, _, folder = student
    script = (f"import sys; from stancekit.registry import load_model; "
              f"m = load_model({str(folder)!r}); print(m.predict(['Join the strike on Saturday'])[0][0]); "
              "print('torch' in sys.modules, 'transformers' in sys.modules, 'sklearn' in sys.modules)")
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(),
                             timeout=300)
    assert process.returncode == 0, process.stderr
    label, imported = process.stdout.splitlines()
    assert label in ("regime", "opposition", "neutral")
    assert imported == "False False False"


def test_the_pytorch_network_loads_when_explanations_need_it(student):
    _, loaded, _ = student
    predicted = [{"stance": s, "claim_type": c} for s, c in loaded.predict(TEXTS[:2])]
    evidence = loaded.explain(TEXTS[:2], predicted)
    assert evidence[0]["method"] == "occlusion" and evidence[0]["stance"]
    assert "encoder_" in loaded.__dict__


def test_bad_settings_are_refused():
    for params in ({"layers": 0}, {"quantization": "int4"}, {"runtime": "tensorrt"}):
        with pytest.raises(ValueError):
            DistilledClassifier(**params).fit(TEXTS, LABELS, quiet=True)
