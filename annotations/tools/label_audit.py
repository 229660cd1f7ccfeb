"""Rank likely label errors in the corpus for review: ``stancekit audit``'s code, in the review file's format.

Usage: python annotations/tools/label_audit.py [--folds 5] [--top 360] [--out FILE]

Out-of-fold probabilities come from TF-IDF models (stancekit's, with their default
settings) that never saw the record's document, and cleanlab flags and ranks the labels
that disagree with them (``stancekit.annotation.audit``). Each flagged record is written
once, at the rank of its most suspect label, with both tasks' given and suspected labels
and top probabilities.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from stancekit.annotation.audit import audit
from stancekit.data import corpus_files, load_records
from stancekit.labels import TASKS, get_scheme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--top", type=int, default=360)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "agreement/v2/audit_candidates.jsonl"))
    args = parser.parse_args()
    records = load_records(corpus_files())
    result = audit(records, "tfidf", args.folds)
    position = {record["id"]: i for i, record in enumerate(records)}
    flagged: dict[str, dict[str, str]] = {}
    for suspect in result.suspects:
        flagged.setdefault(suspect.id, {})[suspect.task] = suspect.suggested
    print(f"{len(flagged)} of {len(records)} records flagged; writing the top {min(args.top, len(flagged))}")
    scheme = get_scheme()
    with open(args.out, "w", encoding="utf-8") as handle:
        for rank, (record_id, suspected) in enumerate(list(flagged.items())[:args.top], 1):
            record = records[position[record_id]]
            probabilities = {}
            for task, task_probabilities in zip(TASKS, result.probabilities):
                row = task_probabilities[position[record_id]]
                probabilities[task] = {scheme.labels(task)[j]: round(float(row[j]), 3) for j in np.argsort(-row)[:3]}
            entry = {"rank": rank, "id": record_id, "doc_id": record["doc_id"], "text": record["text"],
                     "given": {task: record[task] for task in TASKS}, "suspected": suspected,
                     "probabilities": probabilities}
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
