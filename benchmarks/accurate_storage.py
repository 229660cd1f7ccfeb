"""How to store a full fine-tune of MPNet in 40 MB: low-rank (SVD) or int8 weight changes, against the whole weights.

    python benchmarks/accurate_storage.py runs/accurate-full-v2 --ranks 64 96 112 120

Takes a model trained with ``adapter="full"`` and, for each option, the same model with every
linear layer's weight change (fine-tuned minus pretrained) replaced by what the option stores:

- ``svd rank r``: the change's truncated SVD at rank r, float16 factors (``adapter="svd"``, what
  the accurate model ships);
- ``int8 deltas``: the change quantized per output row to int8 (symmetric, one float16 scale a
  row).

Each is scored on the test documents of the model's own training data (fp32 path), beside the
full fine-tune, and its stored size is given (learned tensors only). Writes
``benchmarks/accurate_storage.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_records(config: dict) -> list[dict]:
    """The test-split records of the files the model was trained on."""
    from stancekit.data import load_records, read_split_assignment, split_records

    files = [f for f in config["training"]["data"] if f.endswith(".jsonl")] or None
    return split_records(load_records(files), read_split_assignment())["test"]


def scores(model, records: list[dict]) -> dict:
    from stancekit.metrics import macro_f1

    predicted = model.predict([r["text"] for r in records])
    return {task: round(macro_f1([r[task] for r in records], predicted[:, column]), 4)
            for column, task in enumerate(("stance", "claim_type"))}


def low_rank(full, rank: int):
    """The full fine-tune with its weight changes stored as rank-``rank`` SVD factors."""
    model = copy.deepcopy(full)
    model.adapter, model.delta_rank, model.weights_dtype = "svd", rank, "float16"
    model._to_stored_form()
    model._prepare_inference()
    return model


def int8_deltas(full) -> tuple[object, int]:
    """The full fine-tune with each linear layer's weight change quantized per row to int8; its stored bytes."""
    import torch

    model = copy.deepcopy(full)
    _, pretrained = model.base_encoder.load()
    stored = 0
    with torch.no_grad():
        for index in range(model.first_trained_layer, model.encoder_.config.num_hidden_layers):
            original = dict(pretrained.encoder.layer[index].named_modules())
            for name, module in model.encoder_.encoder.layer[index].named_modules():
                if isinstance(module, torch.nn.Linear):
                    base = original[name].weight
                    change = module.weight - base
                    scale = change.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
                    quantized = torch.round(change / scale).clamp(-127, 127)
                    module.weight.copy_(base + quantized * scale.half().float())
                    stored += quantized.numel() + 2 * scale.numel() + 2 * module.bias.numel()
                elif isinstance(module, torch.nn.LayerNorm):
                    stored += 2 * (module.weight.numel() + module.bias.numel())
    stored += 2 * sum(p.numel() for p in model.heads_.parameters())
    model._prepare_inference()
    return model, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="folder of a model trained with adapter=full")
    parser.add_argument("--ranks", type=int, nargs="+", default=[64, 96, 112, 120])
    parser.add_argument("--out", default=str(HERE / "accurate_storage.json"))
    args = parser.parse_args()
    from stancekit.classifiers.accurate import SIZE_LIMIT_BYTES, AccurateClassifier
    from stancekit.classifiers.encoders import limit_threads

    limit_threads()
    folder = Path(args.model)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    full = AccurateClassifier.load(folder)
    full.precision = "fp32"
    full._prepare_inference()
    records = test_records(config)
    rows = [{"option": "full fine-tune (whole weights)", "stored_mb": round(full.stored_bytes() / 1e6, 1),
             "test": scores(full, records)}]
    print(rows[-1], flush=True)
    for rank in args.ranks:
        model = low_rank(full, rank)
        rows.append({"option": f"svd rank {rank}", "stored_mb": round(model.stored_bytes() / 1e6, 1),
                     "test": scores(model, records)})
        print(rows[-1], flush=True)
        del model
    model, stored = int8_deltas(full)
    rows.append({"option": "int8 deltas (per row)", "stored_mb": round(stored / 1e6, 1), "test": scores(model, records)})
    print(rows[-1], flush=True)
    for row in rows[1:]:
        row["points_below_full"] = {task: round(100 * (rows[0]["test"][task] - row["test"][task]), 2)
                                    for task in row["test"]}
        row["fits_40_mb"] = row["stored_mb"] * 1e6 <= SIZE_LIMIT_BYTES
    result = {"model": f"{full.name} {full.version}", "test_records": len(records), "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
