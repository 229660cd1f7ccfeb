"""The accurate model on the CPU: inference speed (int8 against plain fp32 eager) and training cost.

    python benchmarks/accurate_speed.py                 # writes benchmarks/accurate_speed.json
    python benchmarks/accurate_speed.py --sentences 300 --steps 3 --train-records 4200

Inference, in one process over the same weights (all-mpnet-base-v2 as stancekit loads it,
untrained: speed does not depend on the fine-tune, and LoRA adapters are merged into
plain Linear layers before inference):

- ``fp32_eager``: the baseline a user writes in ten lines: the ``transformers`` model's
  forward on batches of 32 texts sorted by length, padded per batch, mean pooling, under
  ``torch.inference_mode``;
- ``stancekit_fp32`` and ``stancekit_int8``: stancekit's path (length buckets of 8 tokens,
  int8 linear layers with per-token activation scales), heads included.

They are timed batch by batch on the same texts, twice in turn (see ``inference``). The
int8 path's agreement with the baseline is the cosine similarity of the two pooled
embeddings of every sentence (labels from an untrained head would mean nothing).

Training: seconds per optimisation step (batch ``--batch-size``: forward, backward, AdamW)
of the real training loop on train-split sentences, for the default LoRA adapters and for a
full fine-tune, extrapolated to an epoch of ``--train-records`` records and to a training
of ``--epochs`` epochs (dev scoring and calibration not included).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from worker import corpus_sentences  # noqa: E402

from stancekit.classifiers.accurate import AccurateClassifier  # noqa: E402
from stancekit.classifiers.encoders import available_cores, limit_threads  # noqa: E402


def eager_fp32(tokenizer, encoder, texts: list[str], max_length: int, batch_size: int = 32) -> np.ndarray:
    """Mean-pooled embeddings the plain way: sorted by length, padded per batch, inference mode."""
    import torch

    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    pooled = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            inputs = tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                               max_length=max_length, return_tensors="pt")
            hidden = encoder(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).float()
            pooled[batch] = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    return pooled


def stancekit_pooled(model: AccurateClassifier, texts: list[str]) -> np.ndarray:
    """Mean-pooled embeddings on stancekit's inference path (bucketed batches, the model's precision)."""
    import torch

    ids, _ = model.tokenize(texts)
    pooled = np.zeros((len(texts), model.encoder_.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for batch, vectors in model.pooled_batches(ids):
            pooled[batch] = vectors.float().numpy()
    return pooled


def inference(sentences: int, batch_size: int = 32) -> dict:
    """Sentences per second of the three paths on ``sentences`` corpus sentences, and their agreement.

    The paths are timed on the same slices of the length-sorted sentences, one baseline
    batch (32) at a time, each twice in turn, keeping the faster: on shared cores this pairs
    every comparison within a few seconds of load.
    """
    texts = corpus_sentences(sentences)
    models = {}
    for precision in ("fp32", "int8"):
        model = AccurateClassifier(adapter="full", precision=precision, inference_batch_size=batch_size)
        model._build_network()
        model._prepare_inference()
        models[precision] = model
    tokenizer, encoder = models["fp32"].tokenizer_, models["fp32"].encoder_
    max_length = models["fp32"].max_length
    runs = {"fp32_eager": lambda chunk: eager_fp32(tokenizer, encoder, chunk, max_length, batch_size),
            "stancekit_fp32": lambda chunk: stancekit_pooled(models["fp32"], chunk),
            "stancekit_int8": lambda chunk: stancekit_pooled(models["int8"], chunk)}
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    texts = [texts[i] for i in np.argsort(lengths, kind="stable")]
    for run in runs.values():  # warm-up
        run(texts[-batch_size:])
    seconds, pooled = dict.fromkeys(runs, 0.0), {name: [] for name in runs}
    for start in range(0, len(texts), batch_size):
        chunk, best = texts[start:start + batch_size], dict.fromkeys(runs, math.inf)
        for repeat in range(2):
            for name, run in runs.items():
                started = time.perf_counter()
                vectors = run(chunk)
                best[name] = min(best[name], time.perf_counter() - started)
                if repeat:
                    pooled[name].append(vectors)
        for name in runs:
            seconds[name] += best[name]
    vectors = {name: np.concatenate(chunks) for name, chunks in pooled.items()}
    speed = {name: sentences / value for name, value in seconds.items()}
    cosine = _cosine(vectors["stancekit_int8"], vectors["fp32_eager"])
    return {"sentences": sentences, "batch_size": batch_size, "max_length": max_length,
            "sentences_per_s": {name: round(value, 2) for name, value in speed.items()},
            "int8_vs_fp32_eager": round(speed["stancekit_int8"] / speed["fp32_eager"], 2),
            "stancekit_fp32_vs_fp32_eager": round(speed["stancekit_fp32"] / speed["fp32_eager"], 2),
            "cosine_int8_vs_fp32_eager": {"mean": round(float(cosine.mean()), 5),
                                          "min": round(float(cosine.min()), 5)},
            "cosine_stancekit_fp32_vs_fp32_eager_min": round(float(
                _cosine(vectors["stancekit_fp32"], vectors["fp32_eager"]).min()), 6)}


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def training(steps: int, batch_size: int, train_records: int, dev_records: int, epochs: int,
             dev_sentences_per_s: float) -> dict:
    """Seconds per step of the real training loop for LoRA and a full fine-tune, and extrapolations."""
    from stancekit.data import load_records, read_split_assignment, split_records
    from stancekit.jobs.training import texts_and_labels

    train = split_records(load_records(), read_split_assignment())["train"]
    chosen = np.random.default_rng(0).choice(len(train), steps * batch_size, replace=False)
    texts, labels = texts_and_labels([train[i] for i in chosen])
    steps_per_epoch = math.ceil(train_records / batch_size)
    dev_s = dev_records / dev_sentences_per_s
    results = {}
    for adapter in ("lora", "full"):
        model = AccurateClassifier(adapter=adapter, epochs=1, batch_size=batch_size)
        model.fit(texts, labels, quiet=True)
        step_s = model.history_[0]["seconds"] / steps
        epoch_s = step_s * steps_per_epoch + dev_s
        results[adapter] = {"settings": {k: v for k, v in model.get_params().items()
                                         if k in ("adapter", "lora_rank", "lora_alpha", "max_length")},
                            "trained_parameters": sum(p.numel() for p in model._trained_state().values()),
                            "stored_mb": round(model.stored_bytes() / 1e6, 1),
                            "seconds_per_step": round(step_s, 2), "epoch_hours": round(epoch_s / 3600, 2),
                            "training_hours": round(epoch_s * epochs / 3600, 1)}
    return {"batch_size": batch_size, "steps_timed": steps, "train_records": train_records,
            "dev_records": dev_records, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "dev_scoring_s_per_epoch": round(dev_s), **results,
            "full_vs_lora_step": round(results["full"]["seconds_per_step"] / results["lora"]["seconds_per_step"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--steps", type=int, default=3, help="training steps timed per adapter")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-records", type=int, default=4200, help="train split to extrapolate to")
    parser.add_argument("--dev-records", type=int, default=1100, help="dev split scored after every epoch")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=str(HERE / "accurate_speed.json"))
    args = parser.parse_args()
    limit_threads()
    speed = inference(args.sentences)
    cost = training(args.steps, args.batch_size, args.train_records, args.dev_records, args.epochs,
                    speed["sentences_per_s"]["stancekit_fp32"])
    import torch

    result = {"machine": {"cpu_cores": available_cores(), "torch_threads": torch.get_num_threads(),
                          "processor": platform.processor() or platform.machine(),
                          "note": "cores shared with other jobs while measured; ratios are from one run"},
              "inference": speed, "training": cost}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
