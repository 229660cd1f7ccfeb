"""Label the transfer set with a teacher model: annotations/transfer/teacher_labels.jsonl and teacher.json.

Usage: python annotations/tools/teacher_labels.py [--teacher accurate] [--work build/teacher_scores.jsonl]

Scores ``transfer.jsonl`` with ``stancekit classify`` (a resumable job: a killed run continues
where it stopped when started again), then keeps, per text id, the teacher's calibrated
probabilities for both labels in label-scheme order (rounded to 5 decimals), and writes the
teacher's name, version and manifest SHA-256 to ``teacher.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from stancekit.artifacts import model_digest
from stancekit.jobs.distillation import TEACHER_FILE, TEACHER_LABELS_FILE, TRANSFER_FILE
from stancekit.labels import TASKS, get_scheme
from stancekit.registry import load_model, resolve

TRANSFER = Path(__file__).resolve().parents[1] / "transfer"
_SCORES = {"stance": "stance_scores", "claim_type": "claim_scores"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default="accurate", help="model name or folder (default: accurate)")
    parser.add_argument("--work", default="build/teacher_scores.jsonl", help="the scoring job's output file")
    args = parser.parse_args()
    work = Path(args.work)
    work.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stancekit", "classify", str(TRANSFER / TRANSFER_FILE), "--model",
               args.teacher, "-o", str(work)]
    if work.with_name(work.name + ".progress").exists():
        command.append("--resume")
    if not work.exists() or work.with_name(work.name + ".progress").exists():
        subprocess.run(command, check=True)
    scheme = get_scheme()
    with open(work, encoding="utf-8") as scored, open(TRANSFER / TEACHER_LABELS_FILE, "w", encoding="utf-8") as out:
        for line in scored:
            record = json.loads(line)
            row = {"id": record["id"]}
            for task in TASKS:
                scores = record[_SCORES[task]]
                row[task] = [round(scores[label], 5) for label in scheme.labels(task)]
            out.write(json.dumps(row) + "\n")
    teacher = load_model(args.teacher)
    description = {"teacher": {"name": teacher.name, "version": teacher.version, "kind": teacher.kind,
                               "manifest_sha256": model_digest(resolve(args.teacher))},
                   "labels": {task: list(scheme.labels(task)) for task in TASKS},
                   "probabilities": "calibrated (the teacher's temperatures applied), rounded to 5 decimals"}
    (TRANSFER / TEACHER_FILE).write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TRANSFER / TEACHER_LABELS_FILE} and {TRANSFER / TEACHER_FILE}")


if __name__ == "__main__":
    main()
