"""Rank likely label errors in the corpus with confident learning on out-of-fold probabilities.

Usage: python annotations/tools/label_audit.py [--folds 5] [--top 360] [--out FILE]

Every record gets probabilities from a TF-IDF model (stancekit's, with the shipped
settings) that never saw its document: documents are split into ``--folds`` groups and
each group is scored by a model fitted on the others. Confident learning (Northcutt et
al., 2021) then flags a record when another label clears that label's own threshold
(the mean probability the model gives it on records that carry it) and beats the given
label. Flagged records are ranked by the margin between the suspected and the given
label, most suspicious first, and written with both tasks' probabilities for review.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

from stancekit.classifiers.tfidf import TfidfClassifier
from stancekit.data import corpus_files, load_records
from stancekit.labels import TASKS, get_scheme


def out_of_fold_probabilities(records: list[dict], folds: int) -> list[np.ndarray]:
    """Per task, an (n, labels) array of probabilities from models that never saw the record's document."""
    texts = [r["text"] for r in records]
    labels = np.array([[r[task] for task in TASKS] for r in records], dtype=object)
    groups = [r["doc_id"] for r in records]
    scheme = get_scheme()
    result = [np.zeros((len(records), len(scheme.labels(task)))) for task in TASKS]
    for fold, (train, held_out) in enumerate(GroupKFold(n_splits=folds).split(texts, groups=groups), 1):
        model = TfidfClassifier(C={"stance": 10.0, "claim_type": 10.0})
        model.fit([texts[i] for i in train], labels[train], quiet=True)
        for task_probabilities, fold_probabilities in zip(result, model.predict_proba([texts[i] for i in held_out])):
            task_probabilities[held_out] = fold_probabilities
        print(f"fold {fold}/{folds} scored {len(held_out)} records")
    return result


def confident_learning_issues(probabilities: np.ndarray, given: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (suspected label index or -1, margin) per record for one task."""
    thresholds = np.array([probabilities[given == j, j].mean() if (given == j).any() else 1.0
                           for j in range(probabilities.shape[1])])
    confident = probabilities >= thresholds
    masked = np.where(confident, probabilities, -1.0)
    suspected = masked.argmax(axis=1)
    has_candidate = confident.any(axis=1)
    rows = np.arange(len(given))
    issue = has_candidate & (suspected != given)
    margin = probabilities[rows, suspected] - probabilities[rows, given]
    return np.where(issue, suspected, -1), np.where(issue, margin, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--top", type=int, default=360)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "agreement/v2/audit_candidates.jsonl"))
    args = parser.parse_args()
    records = load_records(corpus_files())
    probabilities = out_of_fold_probabilities(records, args.folds)
    scheme = get_scheme()
    flags = {}
    for task, task_probabilities in zip(TASKS, probabilities):
        names = list(scheme.labels(task))
        given = np.array([names.index(r[task]) for r in records])
        flags[task] = (names, *confident_learning_issues(task_probabilities, given))
    score = sum(margin for _, _, margin in flags.values())
    flagged = [i for i in np.argsort(-score) if score[i] > 0]
    print(f"{len(flagged)} of {len(records)} records flagged; writing the top {min(args.top, len(flagged))}")
    with open(args.out, "w", encoding="utf-8") as handle:
        for rank, i in enumerate(flagged[:args.top], 1):
            record = records[i]
            entry = {"rank": rank, "id": record["id"], "doc_id": record["doc_id"], "text": record["text"],
                     "given": {task: record[task] for task in TASKS}, "suspected": {}, "probabilities": {}}
            for task, task_probabilities in zip(TASKS, probabilities):
                names, suspected, margin = flags[task]
                if suspected[i] >= 0:
                    entry["suspected"][task] = names[suspected[i]]
                top = np.argsort(-task_probabilities[i])[:3]
                entry["probabilities"][task] = {names[j]: round(float(task_probabilities[i, j]), 3) for j in top}
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
