"""Write annotations/transfer/transfer.jsonl: the unlabeled sentences the distilled model learns from.

Usage: python annotations/tools/build_transfer_set.py [--seed 13] [--size 30000]

The transfer set is every train-split sentence of the corpus, the sentences written for it
(``written_*.jsonl``: registers where the models are weakest), the rewrites of train
sentences (``rewrites_*.jsonl``: who says it, reporting verbs, denials, attribution placed
first or last, hedges, headlines) and, to reach ``--size``, mechanical variants of train and
written sentences (headline casing, a chyron's capitals, truncation), drawn with the seed.

Nothing of the dev or test split or of the contrast set may leak in: a rewrite of a sentence
that is not in the train split is dropped, and so is any sentence that is a near-duplicate
(``stancekit.near_duplicates``, threshold 0.75) of a dev, test or contrast sentence. The
counts of what was kept and dropped are printed and written to ``transfer_stats.json``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from stancekit.data import corpus_files, load_records, read_split_assignment, split_records
from stancekit.data.near_duplicates import DEFAULT_THRESHOLD, near_duplicate_pairs

ANNOTATIONS = Path(__file__).resolve().parents[1]
TRANSFER = ANNOTATIONS / "transfer"
_SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "with"}


def headline_case(text: str) -> str:
    """``text`` in headline case (small words lower-case except first), final full stop dropped."""
    words = text.rstrip(".").split()
    return " ".join(word if index and word.lower() in _SMALL_WORDS else word[:1].upper() + word[1:]
                    for index, word in enumerate(words))


def truncated(text: str, rng: random.Random) -> str:
    """The first 50–80 % of ``text``'s words, cut as a feed or a ticker cuts, with an ellipsis."""
    words = text.split()
    keep = max(4, round(len(words) * rng.uniform(0.5, 0.8)))
    return " ".join(words[:keep]).rstrip(",;:") + "..."


def variants(text: str, rng: random.Random) -> list[tuple[str, str]]:
    """The mechanical variants that suit ``text``: (change, new text)."""
    words = len(text.split())
    found = []
    if 5 <= words <= 22:
        found.append(("headline_case", headline_case(text)))
    if 4 <= words <= 14:
        found.append(("chyron_capitals", text.rstrip(".").upper()))
    if words >= 10:
        found.append(("truncation", truncated(text, rng)))
    return [(change, new) for change, new in found if new != text]


def unique_texts(rows: list[dict], dropped: Counter) -> list[dict]:
    """``rows`` without the repeats of a text already seen (counted in ``dropped``)."""
    seen, unique = set(), []
    for row in rows:
        if row["text"] in seen:
            dropped["repeated text"] += 1
        else:
            seen.add(row["text"])
            unique.append(row)
    return unique


def without_leaks(rows: list[dict], held_out: list[str], dropped: Counter) -> list[dict]:
    """``rows`` without those that are near-duplicates of a held-out text (counted in ``dropped``)."""
    texts = [row["text"] for row in rows] + held_out
    leaking = {pair.first for pair in near_duplicate_pairs(texts, DEFAULT_THRESHOLD)
               if pair.first < len(rows) <= pair.second}
    dropped["near-duplicate of a dev, test or contrast sentence"] += len(leaking)
    return [row for index, row in enumerate(rows) if index not in leaking]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--size", type=int, default=30000, help="the least number of sentences to reach")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    records = load_records(corpus_files())
    grouped = split_records(records, read_split_assignment())
    train = {r["id"]: r for r in grouped["train"]}
    held_out = [r["text"] for split in ("dev", "test") for r in grouped[split]]
    held_out += [r["text"] for r in read_jsonl(ANNOTATIONS / "contrast" / "contrast.jsonl")]

    rows = [{"id": r["id"], "text": r["text"], "kind": "train", "register": r["source"]} for r in train.values()]
    dropped = Counter()
    for path in sorted(TRANSFER.glob("written_*.jsonl")):
        rows += [{"id": r["id"], "text": r["text"], "kind": "written", "register": r["register"]}
                 for r in read_jsonl(path)]
    for path in sorted(TRANSFER.glob("rewrites_*.jsonl")):
        for r in read_jsonl(path):
            if r["of"] not in train:
                dropped["rewrite of a sentence outside the train split"] += 1
                continue
            rows.append({"id": r["id"], "text": r["text"], "kind": "rewrite", "of": r["of"], "change": r["change"]})
    kept = without_leaks(unique_texts(rows, dropped), held_out, dropped)
    sources = [row for row in kept if row["kind"] in ("train", "written")]
    rng.shuffle(sources)
    candidates = [(source, change, text) for source in sources for change, text in variants(source["text"], rng)]
    rng.shuffle(candidates)
    seen = {row["text"] for row in kept}
    variant_rows = []
    for source, change, text in candidates:
        if text not in seen:
            seen.add(text)
            variant_rows.append({"id": f"mv-{len(variant_rows) + 1:06d}", "text": text, "kind": "variant",
                                 "of": source["id"], "change": change})
    needed = max(0, args.size - len(kept))
    kept += without_leaks(variant_rows[:needed + needed // 10], held_out, dropped)[:needed]  # a tenth spare for leaks

    with open(TRANSFER / "transfer.jsonl", "w", encoding="utf-8") as handle:
        for row in kept:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    stats = {"sentences": len(kept), "by_kind": dict(Counter(row["kind"] for row in kept)),
             "by_change": dict(Counter(row.get("change", "") for row in kept if row.get("change"))),
             "dropped": dict(dropped), "seed": args.seed}
    (TRANSFER / "transfer_stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
