"""Distillation data: a transfer set of texts, a teacher's probabilities on it, and the targets a student learns.

A transfer folder (the repository's ``annotations/transfer/`` is one) holds ``transfer.jsonl`` (one record
per text: ``id``, ``text``, ``kind``, ...), ``teacher_labels.jsonl`` (per ``id``, the
teacher's calibrated probabilities for both labels, columns in label-scheme order) and
``teacher.json`` (the teacher's name, version and manifest SHA-256, and the label order).
``annotations/tools/teacher_labels.py`` writes the last two with any model.

A student learns the teacher's probabilities on every transfer text; where the text is a
train-split record of the labeled data, its target mixes the gold label in:
``gold_weight * one_hot(gold) + (1 - gold_weight) * teacher`` (cross-entropy being linear in
the target, that is the weighted sum of the gold and the teacher losses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..labels import TASKS, get_scheme

TRANSFER_FILE = "transfer.jsonl"
TEACHER_LABELS_FILE = "teacher_labels.jsonl"
TEACHER_FILE = "teacher.json"


@dataclass
class TransferSet:
    """Texts, the teacher's per-task probabilities on them, and who the teacher was."""

    ids: list[str]
    texts: list[str]
    probabilities: list[np.ndarray]
    teacher: dict
    kinds: dict[str, int]


def load_transfer(folder: str | Path) -> TransferSet:
    """Read a transfer folder; InputError naming the file and line for anything missing or malformed."""
    from ..io.lines import read_json_lines

    folder = Path(folder)
    teacher_path = folder / TEACHER_FILE
    try:
        teacher = json.loads(teacher_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable teacher description ({exc}); write it with "
                         "annotations/tools/teacher_labels.py", path=str(teacher_path)) from None
    scheme = get_scheme()
    if teacher.get("labels") != {task: list(scheme.labels(task)) for task in TASKS}:
        raise InputError("the teacher's label order is not this label scheme's", path=str(teacher_path))
    labels_path = folder / TEACHER_LABELS_FILE
    probabilities: dict[str, list] = {}
    for number, row in read_json_lines(labels_path):
        if isinstance(row, Exception):
            raise row
        probabilities[row["id"]] = [row[task] for task in TASKS]
    ids, texts, kinds = [], [], {}
    for number, row in read_json_lines(folder / TRANSFER_FILE):
        if isinstance(row, Exception):
            raise row
        if row["id"] not in probabilities:
            raise InputError("no teacher probabilities for this text; run annotations/tools/teacher_labels.py again",
                             path=str(folder / TRANSFER_FILE), line=number, field="id")
        ids.append(row["id"])
        texts.append(row["text"])
        kinds[row.get("kind", "text")] = kinds.get(row.get("kind", "text"), 0) + 1
    stacked = [np.array([probabilities[i][column] for i in ids], dtype=np.float64) for column in range(len(TASKS))]
    return TransferSet(ids, texts, [p / p.sum(axis=1, keepdims=True) for p in stacked], teacher, kinds)


def student_targets(transfer: TransferSet, train_records: Sequence[dict], gold_weight: float
                    ) -> tuple[list[str], list[np.ndarray]]:
    """The student's texts and per-task targets: the teacher's probabilities, mixed with the gold
    label (``gold_weight``) for texts that are train-split records."""
    if not 0 <= gold_weight <= 1:
        raise ValueError(f"gold_weight must be between 0 and 1, not {gold_weight}")
    scheme = get_scheme()
    gold = {record["id"]: record for record in train_records}
    targets = [p.copy() for p in transfer.probabilities]
    for row, text_id in enumerate(transfer.ids):
        record = gold.get(text_id)
        if record is None:
            continue
        for task, task_targets in zip(TASKS, targets):
            one_hot = np.array([label == record[task] for label in scheme.labels(task)], dtype=np.float64)
            task_targets[row] = gold_weight * one_hot + (1 - gold_weight) * task_targets[row]
    return transfer.texts, targets
