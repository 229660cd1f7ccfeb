"""Print the corpus's label distribution as Markdown tables (used for annotations/README.md).

Usage: python annotations/tools/corpus_stats.py
"""

from __future__ import annotations

from collections import Counter

from stancekit.data import SPLITS, corpus_files, load_records, read_split_assignment
from stancekit.labels import TASKS, get_scheme


def table(title: str, rows: dict[str, Counter], columns: list[str]) -> str:
    lines = [f"| {title} | " + " | ".join(columns) + " | total |", "|---|" + "---:|" * (len(columns) + 1)]
    for name, counts in rows.items():
        lines.append(f"| {name} | " + " | ".join(str(counts[c]) for c in columns) + f" | {sum(counts.values())} |")
    return "\n".join(lines)


def main() -> None:
    scheme = get_scheme()
    records = load_records(corpus_files())
    assignment = read_split_assignment()
    by_origin = {origin: [r for r in records if r["origin"] == origin] for origin in ("seed", "authored")}
    by_split = {split: [r for r in records if assignment[r["doc_id"]] == split] for split in SPLITS}
    for task in TASKS:
        labels = list(scheme.labels(task))
        print(table(f"{task} by origin", {k: Counter(r[task] for r in v) for k, v in by_origin.items()}, labels))
        print()
        print(table(f"{task} by split", {k: Counter(r[task] for r in v) for k, v in by_split.items()}, labels))
        print()
    claim_by_stance = {ct: Counter(r["stance"] for r in records if r["claim_type"] == ct)
                       for ct in scheme.claim_types}
    print(table("claim type by stance", claim_by_stance, list(scheme.stances)))
    print()
    registers = {src: Counter(r["stance"] for r in records if r["source"] == src)
                 for src in sorted({r["source"] for r in records if r["origin"] == "authored"})}
    print(table("register (authored) by stance", registers, list(scheme.stances)))
    lengths = sorted(len(r["text"].split()) for r in records)
    print(f"\nwords per record: min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}; "
          f"documents: {len({r['doc_id'] for r in records})}; records: {len(records)}")


if __name__ == "__main__":
    main()
