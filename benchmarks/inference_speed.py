"""Inference speed of a shipped transformer model against the plain fp32 eager loop, paired in one run.

    python benchmarks/inference_speed.py --model accurate              # bf16 path vs plain fp32, same weights
    python benchmarks/inference_speed.py --model distilled             # ONNX student vs plain fp32 MiniLM-L6
    python benchmarks/inference_speed.py --model accurate --sentences 512 --out benchmarks/accurate_speed.json

The baseline is what a user writes in ten lines: the ``transformers`` encoder's forward on
batches of 32 texts sorted by length and padded per batch, mean pooling and the heads, under
``torch.inference_mode``, in fp32. For ``accurate`` (a combination of the MPNet model and
TF-IDF) it runs over the MPNet member's own (merged) weights, while the served side pays for
the whole combination; for ``distilled`` over all six layers of all-MiniLM-L6-v2 with the student's heads
(the plain model a user would otherwise run). Both paths are timed on the same slices of
the length-sorted test sentences, one batch of 32 at a time, each twice in turn and the
faster kept: on shared cores this pairs every comparison within seconds. Only ratios carry
over to other machines.

Quality: macro-F1 on the whole test split of the model as served (its ``precision`` or ONNX
Runtime) and with every transformer part in fp32, with how many labels differ between the two.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def test_split() -> list[dict]:
    from stancekit.data import load_records, read_split_assignment, split_records

    return split_records(load_records(), read_split_assignment())["test"]


def plain_fp32(model, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Stance logits the plain way: sorted by length, padded per batch, fp32, inference mode."""
    import torch

    tokenizer, encoder = model.plain_encoder
    order = np.argsort([len(tokenizer(t, truncation=True, max_length=model.max_length)["input_ids"])
                        for t in texts], kind="stable")
    logits = np.zeros((len(texts), 3), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            inputs = tokenizer([texts[i] for i in batch], padding=True, truncation=True,
                               max_length=model.max_length, return_tensors="pt")
            hidden = encoder(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            logits[batch] = model.heads_["stance"](pooled).numpy()
    return logits


def network_of(model):
    """The model whose encoder the baseline runs: the model itself, or a combination's transformer member."""
    if model.kind != "ensemble":
        return model
    return next(member for member in model.members_.values() if hasattr(member, "full_precision"))


def full_precision(model):
    """The served model with every transformer part running in fp32 (an ensemble's members too)."""
    import copy

    if model.kind != "ensemble":
        return model.full_precision()
    combined = copy.copy(model)
    combined.members_ = {name: member.full_precision() if hasattr(member, "full_precision") else member
                         for name, member in model.members_.items()}
    return combined


def prepare(name: str):
    """The served model and its network, with the tokenizer and fp32 encoder of the baseline as ``plain_encoder``."""
    import copy

    from stancekit.classifiers.encoders import MINILM_L6, limit_threads
    from stancekit.registry import load_model

    limit_threads()
    served = load_model(name)
    network = copy.copy(network_of(served))
    if network.kind == "distilled":
        network._network()
        network.plain_encoder = MINILM_L6.load()
    else:
        network.plain_encoder = (network.tokenizer_, network.encoder_)
    return served, network


def speed(served, network, texts: list[str], batch_size: int = 32) -> dict:
    """Sentences per second of the served path and of the plain baseline, paired batch by batch."""
    tokenizer = network.plain_encoder[0]
    lengths = [len(tokenizer(t, truncation=True, max_length=network.max_length)["input_ids"]) for t in texts]
    texts = [texts[i] for i in np.argsort(lengths, kind="stable")]
    runs = {"plain_fp32_eager": lambda chunk: plain_fp32(network, chunk, batch_size),
            "stancekit": lambda chunk: served.predict_proba(chunk)}
    for run in runs.values():  # warm-up
        run(texts[-batch_size:])
    seconds = dict.fromkeys(runs, 0.0)
    for start in range(0, len(texts), batch_size):
        chunk, best = texts[start:start + batch_size], dict.fromkeys(runs, math.inf)
        for _ in range(2):
            for name, run in runs.items():
                started = time.perf_counter()
                run(chunk)
                best[name] = min(best[name], time.perf_counter() - started)
        for name in runs:
            seconds[name] += best[name]
    rates = {name: len(texts) / value for name, value in seconds.items()}
    return {"sentences": len(texts), "batch_size": batch_size,
            "sentences_per_s": {name: round(value, 1) for name, value in rates.items()},
            "speed_ratio": round(rates["stancekit"] / rates["plain_fp32_eager"], 2)}


def quality(model, records: list[dict]) -> dict:
    """Macro-F1 of the served path and of the fp32 path on ``records``, and their label differences."""
    from stancekit.metrics import macro_f1

    texts = [r["text"] for r in records]
    reference = full_precision(model)
    result = {}
    for path, scorer in (("served", model), ("fp32", reference)):
        predicted = scorer.predict(texts)
        result[path] = {task: round(macro_f1([r[task] for r in records], predicted[:, column]), 4)
                        for column, task in enumerate(("stance", "claim_type"))}
        result[path]["labels"] = predicted
    differ = (result["served"].pop("labels") != result["fp32"].pop("labels")).any(axis=1)
    result["labels_differing"] = int(differ.sum())
    result["drop_points"] = {task: round(100 * (result["fp32"][task] - result["served"][task]), 2)
                             for task in ("stance", "claim_type")}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="accurate")
    parser.add_argument("--sentences", type=int, default=512, help="test sentences timed (quality uses all)")
    parser.add_argument("--out")
    args = parser.parse_args()
    import torch

    records = test_split()
    served, network = prepare(args.model)
    texts = [r["text"] for r in records][:args.sentences]
    result = {"model": f"{served.name} {served.version} ({served.kind})",
              "machine": {"torch_threads": torch.get_num_threads(),
                          "processor": platform.processor() or platform.machine(),
                          "note": "cores shared with other jobs while measured; only the ratios carry over"},
              "speed": speed(served, network, texts), "quality": quality(served, records)}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
