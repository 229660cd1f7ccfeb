"""Segment the seed articles with stancekit's splitter into unlabeled corpus records.

Usage: python annotations/tools/segment_seeds.py SEED_DIR OUT.jsonl

Each sentence becomes a record with id ``seedNNN-MMM``, doc_id ``seed-NNN`` and empty
labels, ready for annotation. The labeled result is annotations/corpus/seed.jsonl.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stancekit.data.segment import split_sentences
from stancekit.labels import get_scheme


def main(seed_dir: str, out: str) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        for path in sorted(Path(seed_dir).glob("*.txt")):
            number = path.name[:3]
            text = path.read_text(encoding="utf-8")
            for index, sentence in enumerate(split_sentences(text), start=1):
                record = {"schema_version": get_scheme().version, "id": f"seed{number}-{index:03d}",
                          "text": sentence.text, "stance": None, "claim_type": None,
                          "doc_id": f"seed-{number}", "origin": "seed", "source": path.name,
                          "annotator": "ann-A"}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
