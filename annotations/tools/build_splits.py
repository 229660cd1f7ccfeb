"""Write annotations/splits.json: a document-level train/dev/test assignment of the corpus.

Usage: python annotations/tools/build_splits.py [--seed 13]

Whole documents go to one split (seed articles are documents; authored sentences are
grouped into documents by batch and topic), test and dev each get at least 15% of the
records, and the label counts of every split are printed for a check. Documents already
listed in an existing splits file keep their split (so published test scores stay
comparable); only new documents are assigned, by the same method.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from stancekit.data import SPLITS, assign_splits, corpus_files, load_records, read_split_assignment
from stancekit.labels import TASKS

FRACTIONS = {"train": 0.68, "dev": 0.16, "test": 0.16}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "splits.json"))
    args = parser.parse_args()
    records = load_records(corpus_files())
    existing = read_split_assignment(args.out) if Path(args.out).exists() else {}
    new_documents = Counter(r["doc_id"] for r in records if r["doc_id"] not in existing)
    assignment = {**existing, **assign_splits(new_documents, seed=args.seed, fractions=FRACTIONS)}
    present = {r["doc_id"] for r in records}
    splits = {split: sorted(doc for doc, s in assignment.items() if s == split and doc in present)
              for split in SPLITS}
    content = {"schema_version": records[0]["schema_version"], "seed": args.seed,
               "method": "documents shuffled with the seed, then taken into test and dev until each "
                         "holds its share of the records; the rest are train; documents added later "
                         "are assigned the same way among themselves",
               "fractions": FRACTIONS, "splits": splits}
    previous = json.loads(Path(args.out).read_text(encoding="utf-8")) if Path(args.out).exists() else {}
    content.update({key: previous[key] for key in ("v1_test_documents", "v1_test_note") if key in previous})
    Path(args.out).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    for split in SPLITS:
        rows = [r for r in records if assignment[r["doc_id"]] == split]
        print(f"{split}: {len(splits[split])} documents, {len(rows)} records "
              f"({len(rows) / len(records):.1%})")
        for task in TASKS:
            print(f"  {task}: {dict(sorted(Counter(r[task] for r in rows).items()))}")


if __name__ == "__main__":
    main()
