"""Leave-one-seed-article-out scores of the transformer, cached for benchmarks/run.py.

    python benchmarks/loso.py    # three trainings of the transformer: about 30 minutes on 2 cores

Each fold retrains the transformer with the shipped model's settings, without one seed
article, and tests it on all of that article's sentences (articles of the test split
never reached the shipped model, which serves as their fold's model). The result goes to
benchmarks/loso_transformer.json, which run.py reports (the TF-IDF folds are cheap and
run.py computes them itself).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(HERE))
    from run import LOSO_CACHE, leave_one_seed_out, shipped_settings

    from stancekit.data import load_records, read_split_assignment, split_records

    params, _ = shipped_settings("transformer")
    records = load_records()
    started = time.perf_counter()
    folds = leave_one_seed_out("transformer", records, split_records(records, read_split_assignment()),
                               params)
    LOSO_CACHE.write_text(json.dumps({"settings": params, "seconds": time.perf_counter() - started,
                                      "folds": folds}, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(folds, indent=2))


if __name__ == "__main__":
    main()
