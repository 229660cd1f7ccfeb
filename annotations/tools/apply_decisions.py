"""Apply logged label decisions and text rewrites to the corpus files, in place.

Usage: python annotations/tools/apply_decisions.py LOG.jsonl [LOG.jsonl ...]

A log line with ``final`` labels (the audit log, an adjudication log) sets the record's
stance and claim type, unless it is marked ``"frozen": true`` or its document is one of
the v1 test documents listed in annotations/splits.json (kept unchanged so that scores
on them stay comparable). A line with ``new_text`` (near-duplicate rewrites) replaces the
record's text, and its labels when given. Every change is noted in the record's
``notes`` with the log it came from; records keep their order and key order.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stancekit.io.lines import iter_jsonl
from stancekit.labels import TASKS

ANNOTATIONS = Path(__file__).resolve().parents[1]


def _log_name(path: Path) -> str:
    """How a record's notes name the log a change came from: its path under annotations/."""
    resolved = path.resolve()
    return resolved.relative_to(ANNOTATIONS).as_posix() if ANNOTATIONS in resolved.parents else path.name


def decisions(paths: list[str]) -> dict[str, tuple[dict, str]]:
    """Record id → (the change to make, the name of the log it came from); later logs win."""
    changes: dict[str, tuple[dict, str]] = {}
    for path in paths:
        for _, line in iter_jsonl(path):
            change = {}
            if "new_text" in line:
                change["text"] = line["new_text"]
                change.update({task: line[task] for task in TASKS if task in line})
            elif "final" in line and not line.get("frozen"):
                change.update({key: line["final"][key] for key in (*TASKS, "secondary_claim_types")
                               if key in line["final"]})
            if change:
                changes[line["id"]] = (change, _log_name(Path(path)))
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+")
    args = parser.parse_args()
    frozen = set(json.loads((ANNOTATIONS / "splits.json").read_text(encoding="utf-8")).get("v1_test_documents", []))
    changes = decisions(args.logs)
    applied = skipped = 0
    for path in sorted([*(ANNOTATIONS / "corpus").glob("*.jsonl"), *(ANNOTATIONS / "contrast").glob("*.jsonl")]):
        records = [record for _, record in iter_jsonl(path)]
        touched = False
        for record in records:
            if record["id"] not in changes:
                continue
            change, log = changes[record["id"]]
            if record["doc_id"] in frozen and any(record[t] != change.get(t, record[t]) for t in TASKS):
                skipped += 1
                continue
            differences = [f"{key} {record.get(key)!r} -> {value!r}" if key != "text" else "text reworded"
                           for key, value in change.items() if record.get(key) != value]
            if not differences:
                continue
            record.update(change)
            if "secondary_claim_types" in record:
                record["secondary_claim_types"] = [t for t in record["secondary_claim_types"]
                                                   if t not in (record["claim_type"], "none")]
            note = f"{log}: {'; '.join(differences)}"
            record["notes"] = f"{record['notes']} | {note}" if record.get("notes") else note
            applied += 1
            touched = True
        if touched:
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"applied {applied} changes; skipped {skipped} label changes in v1 test documents")


if __name__ == "__main__":
    main()
