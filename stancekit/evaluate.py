"""Evaluation against labeled data: metrics, confusion matrices, and report and plot writers.

Macro-F1 averages over the labels that occur in the gold labels or the predictions
(as scikit-learn's ``f1_score(average="macro")`` does), so a label absent from a small
test file neither helps nor hurts the score.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .labels import TASKS, get_scheme


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


@dataclass
class EvaluationResult:
    """The evaluation of one model on one labeled set."""

    model: str
    model_version: str
    data: str
    records: int
    tasks: dict[str, TaskMetrics]

    def to_dict(self) -> dict:
        return asdict(self)


def task_metrics(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str],
                 top_confusions: int = 5) -> TaskMetrics:
    """Compute per-class precision/recall/F1, macro-F1, accuracy and the confusion matrix."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, predicted, strict=True):
        confusion[index[g], index[p]] += 1
    true_positive = np.diag(confusion)
    gold_total, predicted_total = confusion.sum(axis=1), confusion.sum(axis=0)
    precision = np.divide(true_positive, predicted_total, out=np.zeros(len(labels)), where=predicted_total > 0)
    recall = np.divide(true_positive, gold_total, out=np.zeros(len(labels)), where=gold_total > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(len(labels)), where=denominator > 0)
    present = (gold_total + predicted_total) > 0
    errors = [(labels[i], labels[j], int(confusion[i, j])) for i in range(len(labels))
              for j in range(len(labels)) if i != j and confusion[i, j] > 0]
    errors.sort(key=lambda e: (-e[2], e[0], e[1]))
    total = int(confusion.sum())
    return TaskMetrics(
        labels=list(labels), confusion=confusion.tolist(),
        per_class={label: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]),
                                       int(gold_total[i])) for i, label in enumerate(labels)},
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        accuracy=float(true_positive.sum() / total) if total else 0.0,
        most_confused=errors[:top_confusions])


def evaluate_predictions(records: Sequence[dict], predicted: np.ndarray, model: str = "",
                         model_version: str = "", data: str = "") -> EvaluationResult:
    """Score an ``(n, 2)`` array of predicted (stance, claim_type) labels against ``records``."""
    scheme = get_scheme()
    tasks = {task: task_metrics([r[task] for r in records], list(predicted[:, column]),
                                scheme.labels(task))
             for column, task in enumerate(TASKS)}
    return EvaluationResult(model, model_version, data, len(records), tasks)


def evaluate_model(model, records: Sequence[dict], data: str = "", batch_size: int = 256,
                   quiet: bool = True) -> EvaluationResult:
    """Predict ``records`` with a loaded model and score the predictions."""
    from .progress import progress_bar

    texts = [r["text"] for r in records]
    batches = []
    with progress_bar(len(texts), "evaluating", quiet, unit="sent") as bar:
        for start in range(0, len(texts), batch_size):
            batches.append(model.predict(texts[start:start + batch_size]))
            bar.update(len(batches[-1]))
    predicted = np.concatenate(batches) if batches else np.empty((0, len(TASKS)), dtype=object)
    return evaluate_predictions(records, predicted, model.name, model.version, data)


def summary_table(result: EvaluationResult) -> str:
    """A short plain-text table: macro-F1 and accuracy per task."""
    lines = [f"{result.model} {result.model_version} on {result.data} ({result.records} records)",
             f"{'task':<12} {'macro-F1':>9} {'accuracy':>9}"]
    for task, metrics in result.tasks.items():
        lines.append(f"{task:<12} {metrics.macro_f1:>9.3f} {metrics.accuracy:>9.3f}")
    return "\n".join(lines)


def markdown_report(result: EvaluationResult) -> str:
    """A Markdown report: summary, per-class scores, confusion matrices, most confused pairs."""
    out = [f"# Evaluation of {result.model} {result.model_version}", "",
           f"Data: `{result.data}`, {result.records} records.", "",
           "| task | macro-F1 | accuracy |", "|---|---:|---:|"]
    out += [f"| {task} | {m.macro_f1:.3f} | {m.accuracy:.3f} |" for task, m in result.tasks.items()]
    for task, metrics in result.tasks.items():
        out += ["", f"## {task}", "", "| label | precision | recall | F1 | support |",
                "|---|---:|---:|---:|---:|"]
        out += [f"| {label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
                for label, c in metrics.per_class.items()]
        out += ["", "Confusion matrix (rows: gold, columns: predicted):", "",
                "| gold \\ predicted | " + " | ".join(metrics.labels) + " |",
                "|---|" + "---:|" * len(metrics.labels)]
        out += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
                for label, row in zip(metrics.labels, metrics.confusion)]
        out += ["", "Most confused (gold → predicted):", ""]
        out += [f"- {g} → {p}: {n}" for g, p, n in metrics.most_confused] or ["- none"]
    return "\n".join(out) + "\n"


def write_json(result: EvaluationResult, path: str | Path) -> None:
    """Write the full result as JSON."""
    from .io import atomic_write_text

    atomic_write_text(path, json.dumps(result.to_dict(), indent=2) + "\n")


def write_report(result: EvaluationResult, path: str | Path) -> None:
    """Write the Markdown report."""
    from .io import atomic_write_text

    atomic_write_text(path, markdown_report(result))


def plot_confusion(result: EvaluationResult, path: str | Path) -> None:
    """Draw both confusion matrices (row-normalised colours, raw counts) into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import atomic_output

    figure, axes = plt.subplots(1, len(result.tasks), figsize=(15, 6.5),
                                gridspec_kw={"width_ratios": [1, 2.2]})
    for axis, (task, metrics) in zip(axes, result.tasks.items()):
        counts = np.array(metrics.confusion)
        rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        ticks = range(len(metrics.labels))
        axis.set_xticks(ticks, metrics.labels, rotation=45, ha="right")
        axis.set_yticks(ticks, metrics.labels)
        axis.set_xlabel("predicted")
        axis.set_ylabel("gold")
        axis.set_title(f"{task}: macro-F1 {metrics.macro_f1:.3f}, accuracy {metrics.accuracy:.3f}")
        for (row, column), value in np.ndenumerate(counts):
            if value:
                axis.text(column, row, str(value), ha="center", va="center", fontsize=8,
                          color="white" if rates[row, column] > 0.5 else "black")
    figure.suptitle(f"{result.model} {result.model_version} on {result.data} ({result.records} records)")
    figure.tight_layout()
    with atomic_output(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)
