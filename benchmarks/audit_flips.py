"""Label audit on the corpus with 5 % of each label flipped at random: does it find the flips?

    python benchmarks/audit_flips.py        # about 3 minutes on 2 cores

For each task (stance, claim type), a seeded random 5 % of the corpus records get another
label, drawn uniformly. ``stancekit audit``'s code (5-fold out-of-fold probabilities from
TF-IDF models, documents kept together; cleanlab) then ranks the suspect labels. For k =
1x and 2x the number of flipped labels: the share of flipped labels among the top k
(recall) and the share of the top k that are flipped (precision). The corpus's own label
errors compete with the flips, so precision is a lower bound. Writes
benchmarks/audit_flips.json, which benchmarks/run.py reports.
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


def flip_labels(records: list[dict], share: float, seed: int) -> set[tuple[str, str]]:
    """Give ``share`` of the records, per task, another label drawn uniformly; return the (id, task) flipped."""
    from stancekit.labels import TASKS, get_scheme

    rng = random.Random(seed)
    scheme = get_scheme()
    flipped = set()
    for task in TASKS:
        for record in rng.sample(records, round(share * len(records))):
            record[task] = rng.choice([label for label in scheme.labels(task) if label != record[task]])
            flipped.add((record["id"], task))
    return flipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "audit_flips.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from stancekit.annotation.audit import audit
    from stancekit.data import load_records

    records = [dict(record) for record in load_records()]
    flipped = flip_labels(records, args.share, args.seed)
    started = time.perf_counter()
    result = audit(records, "tfidf", args.folds, seed=args.seed, quiet=True)
    ranked = [(s.id, s.task) for s in result.suspects]
    at_k = []
    for multiple in (1, 2):
        k = multiple * len(flipped)
        found = len(set(ranked[:k]) & flipped)
        at_k.append({"k": k, "multiple": multiple, "found": found, "recall": found / len(flipped),
                     "precision": found / k})
    summary = {"records": len(records), "share": args.share, "seed": args.seed, "folds": args.folds,
               "flipped": len(flipped), "flagged": len(ranked), "flipped_flagged": len(set(ranked) & flipped),
               "at_k": at_k, "seconds": round(time.perf_counter() - started, 1),
               "finished": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
