"""Evaluating a model on labeled records: per-task scores, confusion matrices, calibration, documents.

The scores themselves are those of ``stancekit.metrics``, the ones model selection uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from ..labels import TASKS, get_scheme
from ..metrics import calibration_error, macro_f1, per_class_scores


@dataclass
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class TaskMetrics:
    """Scores for one task (stance or claim type)."""

    labels: list[str]
    confusion: list[list[int]]
    """Rows are gold labels, columns predicted labels, both in ``labels`` order."""
    per_class: dict[str, ClassMetrics]
    macro_f1: float
    accuracy: float
    most_confused: list[tuple[str, str, int]]
    """(gold, predicted, count) for the most frequent errors, largest first."""
    calibration_error: float | None = None
    """Expected calibration error of the predicted label's probability (10 equal-width bins)."""


@dataclass
class EvaluationResult:
    """The evaluation of one model on one labeled set."""

    model: str
    model_version: str
    data: str
    records: int
    tasks: dict[str, TaskMetrics]
    confidences: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    """Per task: the probability of each predicted label and whether it was right (for plots)."""
    documents: dict[str, float] = field(default_factory=dict)
    """Share of documents (``doc_id``) with every record right, per task and for both tasks
    (``all``), and their count (``documents``): the group score of a contrast set."""

    def to_dict(self) -> dict:
        return {name: value for name, value in asdict(self).items() if name != "confidences"}


def task_metrics(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                 top_confusions: int = 5) -> TaskMetrics:
    """Compute per-class precision/recall/F1, macro-F1, accuracy and the confusion matrix."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g], index[p]] += 1
    precision, recall, f1, support = per_class_scores(gold, predicted, labels)
    errors = [(labels[i], labels[j], int(confusion[i, j])) for i in range(len(labels))
              for j in range(len(labels)) if i != j and confusion[i, j] > 0]
    errors.sort(key=lambda e: (-e[2], e[0], e[1]))
    total = int(confusion.sum())
    return TaskMetrics(
        labels=list(labels), confusion=confusion.tolist(),
        per_class={label: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
                   for i, label in enumerate(labels)},
        macro_f1=macro_f1(gold, predicted),
        accuracy=float(np.trace(confusion) / total) if total else 0.0,
        most_confused=errors[:top_confusions])


def evaluate_predictions(records: Sequence[dict], predicted: np.ndarray, model: str = "",
                         model_version: str = "", data: str = "",
                         confidence: np.ndarray | None = None, by_document: bool = False) -> EvaluationResult:
    """Score an ``(n, 2)`` array of predicted (stance, claim_type) labels against ``records``.

    ``confidence``, an optional ``(n, 2)`` array of the predicted labels' probabilities,
    adds calibration errors and the data for score plots; ``by_document`` adds the share
    of documents with every record right (the group score of a contrast set).
    """
    scheme = get_scheme()
    tasks, confidences = {}, {}
    for column, task in enumerate(TASKS):
        gold = [r[task] for r in records]
        tasks[task] = task_metrics(gold, list(predicted[:, column]), scheme.labels(task))
        if confidence is not None:
            correct = np.array(gold, dtype=object) == predicted[:, column]
            tasks[task].calibration_error = calibration_error(confidence[:, column], correct)
            confidences[task] = (confidence[:, column], correct)
    return EvaluationResult(model, model_version, data, len(records), tasks, confidences,
                            document_accuracy(records, predicted) if by_document else {})


def document_accuracy(records: Sequence[dict], predicted: np.ndarray) -> dict[str, float]:
    """The share of documents whose records are all predicted right, per task and for both."""
    right: dict[str, dict[str, bool]] = {"all": {}, **{task: {} for task in TASKS}}
    for record, labels in zip(records, predicted):
        hits = [record[task] == label for task, label in zip(TASKS, labels)]
        document = record["doc_id"]
        for key, hit in zip((*TASKS, "all"), (*hits, all(hits))):
            right[key][document] = right[key].get(document, True) and hit
    count = len(right["all"])
    return {"documents": count, **{key: sum(values.values()) / count for key, values in right.items()}} \
        if count else {}


def evaluate_model(model, records: Sequence[dict], data: str = "", batch_size: int = 256,
                   quiet: bool = True, by_document: bool = False) -> EvaluationResult:
    """Predict ``records`` with a loaded model and score the predictions."""
    from ..progress import progress_bar

    texts = [r["text"] for r in records]
    labels, confidences = [], []
    with progress_bar(len(texts), "evaluating", quiet, unit="sent") as bar:
        for start in range(0, len(texts), batch_size):
            probabilities = model.predict_proba(texts[start:start + batch_size])
            labels.append(model.labels_from(probabilities))
            confidences.append(np.stack([p.max(axis=1) for p in probabilities], axis=1))
            bar.update(len(labels[-1]))
    if not labels:
        return evaluate_predictions(records, np.empty((0, len(TASKS)), dtype=object), model.name,
                                    model.version, data)
    return evaluate_predictions(records, np.concatenate(labels), model.name, model.version, data,
                                np.concatenate(confidences), by_document)
