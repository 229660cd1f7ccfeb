"""Inter-annotator agreement between two labelings of the same records.

Usage: python annotations/tools/agreement.py FIRST.jsonl SECOND.jsonl [--json OUT]

Records are matched by id. Prints Cohen's kappa, macro-F1 (taking FIRST as the
reference) and raw agreement for stance and claim type, and the disagreements.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from sklearn.metrics import cohen_kappa_score, f1_score

from stancekit.io.lines import iter_jsonl
from stancekit.labels import TASKS


def agreement(first: dict[str, dict], second: dict[str, dict]) -> dict:
    """Kappa, macro-F1 and raw agreement per task over the ids both labelings share."""
    ids = sorted(set(first) & set(second))
    result = {"records": len(ids)}
    for task in TASKS:
        a = [first[i][task] for i in ids]
        b = [second[i][task] for i in ids]
        result[task] = {"cohen_kappa": cohen_kappa_score(a, b),
                        "macro_f1": f1_score(a, b, average="macro"),
                        "raw_agreement": sum(x == y for x, y in zip(a, b)) / len(ids),
                        "confusions": Counter(f"{x} -> {y}" for x, y in zip(a, b) if x != y).most_common(10)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--json")
    args = parser.parse_args()
    first = {r["id"]: r for _, r in iter_jsonl(args.first)}
    second = {r["id"]: r for _, r in iter_jsonl(args.second)}
    result = agreement(first, second)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
