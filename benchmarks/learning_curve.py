"""Learning curve: test-split scores after training on 25, 50 and 100 % of the train documents.

    python benchmarks/learning_curve.py                  # TF-IDF and the transformer (about 25 minutes on 2 cores)
    python benchmarks/learning_curve.py --models tfidf   # TF-IDF only (about a minute)

Shares are nested random subsets of whole train documents (seed 13): the 25 % documents
are among the 50 %. Every point trains with the shipped model's settings, selects on the
whole dev split and scores the whole test split. The 100 % point of a model is the
shipped model itself when it was trained on the current corpus (its config's data hash
matches), so it is not trained twice. Writes benchmarks/learning_curve.json and
learning_curve.png, which benchmarks/run.py reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRACTIONS = (0.25, 0.5, 1.0)


def train_documents_subset(train: list[dict], fraction: float, seed: int) -> list[dict]:
    """The records of the first ``fraction`` of the train documents, in a fixed shuffled order."""
    documents = sorted({r["doc_id"] for r in train})
    random.Random(seed).shuffle(documents)
    kept = set(documents[:max(1, round(fraction * len(documents)))])
    return [r for r in train if r["doc_id"] in kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tfidf", "transformer"])
    parser.add_argument("--fractions", nargs="+", type=float, default=list(FRACTIONS))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", default=str(HERE / "learning_curve.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    sys.path.insert(0, str(HERE))
    from run import shipped_settings

    from stancekit.data import load_records, read_split_assignment, split_records
    from stancekit.evaluation.results import evaluate_model
    from stancekit.jobs.training import data_sha256, texts_and_labels
    from stancekit.registry import load_model, make_model

    records = load_records()
    grouped = split_records(records, read_split_assignment())
    corpus_hash = data_sha256(records)
    points = []
    for kind in args.models:
        settings, config = shipped_settings(kind)
        for fraction in args.fractions:
            train = train_documents_subset(grouped["train"], fraction, args.seed)
            started = time.perf_counter()
            if fraction == 1.0 and config.get("training", {}).get("data_sha256") == corpus_hash:
                model, source = load_model(kind), "shipped model"
            else:
                model = make_model(kind, **settings)
                model.fit(*texts_and_labels(train), validation=texts_and_labels(grouped["dev"]), quiet=True)
                source = "trained here"
            result = evaluate_model(model, grouped["test"], data="test split")
            points.append({"model": kind, "fraction": fraction, "train_records": len(train), "source": source,
                           "seconds": round(time.perf_counter() - started, 1),
                           **{f"{task}_macro_f1": m.macro_f1 for task, m in result.tasks.items()}})
            print(json.dumps(points[-1]), file=sys.stderr, flush=True)
    curve = {"seed": args.seed, "test_records": len(grouped["test"]), "corpus_sha256": corpus_hash,
             "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "points": points}
    Path(args.out).write_text(json.dumps(curve, indent=2) + "\n", encoding="utf-8")
    plot(curve, Path(args.out).with_suffix(".png"))


def plot(curve: dict, path: Path) -> None:
    """Macro-F1 against train records, one line per model and label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for axis, task in zip(axes, ("stance", "claim_type")):
        for model in dict.fromkeys(p["model"] for p in curve["points"]):
            mine = [p for p in curve["points"] if p["model"] == model]
            axis.plot([p["train_records"] for p in mine], [p[f"{task}_macro_f1"] for p in mine],
                      marker="o", label=model)
        axis.set_title(f"{task}: test macro-F1")
        axis.set_xlabel("train records")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("macro-F1")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
