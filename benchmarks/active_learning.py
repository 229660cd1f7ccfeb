"""Simulated annotation loop: does ``stancekit suggest`` teach a model more per label than random sampling?

    python benchmarks/active_learning.py        # about 5 minutes on 2 cores

The train split is the pool, its labels hidden until a sentence is chosen; the test split
scores every model. Each run starts from the same random seed batch of ``--batch``
sentences, then adds ``--rounds`` batches of the same size, chosen either by
``stancekit.annotation.suggest.select_batch`` (the code of ``stancekit suggest``, with its
defaults) from the current model's probabilities, or at random. The model is TF-IDF with
its default settings (no dev-split selection, which an analyst starting out would not
have), retrained after every batch. Three seeds. Writes benchmarks/active_learning.json
and active_learning.png, which benchmarks/run.py reports.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
STRATEGIES = ("suggest", "random")


def run_loop(pool: list[dict], test: list[dict], strategy: str, seed: int, batch: int, rounds: int) -> list[dict]:
    """Macro-F1 on ``test`` after the seed batch and after each round of ``strategy``."""
    from stancekit.annotation.suggest import select_batch
    from stancekit.evaluation.results import evaluate_model
    from stancekit.registry import make_model
    from stancekit.training import texts_and_labels

    rng = random.Random(seed)
    labeled = rng.sample(range(len(pool)), batch)
    points = []
    for round_number in range(rounds + 1):
        model = make_model("tfidf")
        model.fit(*texts_and_labels([pool[i] for i in labeled]), quiet=True)
        scores = evaluate_model(model, test, data="test split")
        points.append({"round": round_number, "labels": len(labeled),
                       **{f"{task}_macro_f1": m.macro_f1 for task, m in scores.tasks.items()}})
        if round_number == rounds:
            break
        taken = set(labeled)
        remaining = [i for i in range(len(pool)) if i not in taken]
        if strategy == "random":
            labeled += rng.sample(remaining, batch)
        else:
            texts = [pool[i]["text"] for i in remaining]
            picks = select_batch(texts, model.predict_proba(texts), batch)
            labeled += [remaining[pick.index] for pick in picks]
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 14, 15])
    parser.add_argument("--out", default=str(HERE / "active_learning.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from stancekit.data import load_records, read_split_assignment, split_records

    grouped = split_records(load_records(), read_split_assignment())
    started = time.perf_counter()
    runs = []
    for seed in args.seeds:
        for strategy in STRATEGIES:
            points = run_loop(grouped["train"], grouped["test"], strategy, seed, args.batch, args.rounds)
            runs.append({"strategy": strategy, "seed": seed, "points": points})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    results = {"pool_records": len(grouped["train"]), "test_records": len(grouped["test"]), "batch": args.batch,
               "rounds": args.rounds, "seeds": args.seeds, "runs": runs, "mean": mean_curves(runs),
               "seconds": round(time.perf_counter() - started, 1),
               "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    plot(results, Path(args.out).with_suffix(".png"))


def mean_curves(runs: list[dict]) -> dict:
    """Per strategy, per round: labels and the mean, min and max macro-F1 of each task over the seeds."""
    curves = {}
    for strategy in STRATEGIES:
        mine = [run["points"] for run in runs if run["strategy"] == strategy]
        curves[strategy] = []
        for points in zip(*mine):
            row = {"labels": points[0]["labels"]}
            for task in ("stance", "claim_type"):
                values = [p[f"{task}_macro_f1"] for p in points]
                row[task] = {"mean": statistics.mean(values), "min": min(values), "max": max(values)}
            curves[strategy].append(row)
    return curves


def plot(results: dict, path: Path) -> None:
    """Test macro-F1 against labels used, per task: mean over seeds, and the seeds' range as a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for axis, task in zip(axes, ("stance", "claim_type")):
        for strategy, style in zip(STRATEGIES, ("o-", "s--")):
            curve = results["mean"][strategy]
            labels = [row["labels"] for row in curve]
            axis.plot(labels, [row[task]["mean"] for row in curve], style, label=strategy)
            axis.fill_between(labels, [row[task]["min"] for row in curve], [row[task]["max"] for row in curve],
                              alpha=0.2)
        axis.set_title(f"{task}: test macro-F1")
        axis.set_xlabel("labeled sentences")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel(f"macro-F1 (mean of {len(results['seeds'])} seeds; band: range)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
