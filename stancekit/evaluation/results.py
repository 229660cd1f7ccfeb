"""Evaluation against labeled data: metrics, confusion matrices, and report and plot writers.

Macro-F1 averages over the labels that occur in the gold labels or the predictions
(as scikit-learn's ``f1_score(average="macro")`` does), so a label absent from a small
test file neither helps nor hurts the score.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
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


def macro_f1(gold: Sequence, predicted: Sequence) -> float:
    """Macro-F1 over the labels that occur in ``gold`` or ``predicted`` (0.0 for no records).

    The one macro-F1 of stancekit: evaluation, TF-IDF regularisation choice, transformer
    early stopping and ensemble weights all use it.
    """
    from sklearn.metrics import f1_score

    labels = sorted(set(gold) | set(predicted))
    if not labels:
        return 0.0
    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


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
    errors = [(labels[i], labels[j], int(confusion[i, j])) for i in range(len(labels))
              for j in range(len(labels)) if i != j and confusion[i, j] > 0]
    errors.sort(key=lambda e: (-e[2], e[0], e[1]))
    total = int(confusion.sum())
    return TaskMetrics(
        labels=list(labels), confusion=confusion.tolist(),
        per_class={label: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]),
                                       int(gold_total[i])) for i, label in enumerate(labels)},
        macro_f1=macro_f1(gold, predicted),
        accuracy=float(true_positive.sum() / total) if total else 0.0,
        most_confused=errors[:top_confusions])


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the record-weighted gap between confidence and accuracy per bin."""
    if not len(confidence):
        return 0.0
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.sum() * abs(confidence[members].mean() - correct[members].mean())
    return float(gap / len(confidence))


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
    from .progress import progress_bar

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


def summary_table(result: EvaluationResult) -> str:
    """A short plain-text table: macro-F1 and accuracy per task."""
    lines = [f"{result.model} {result.model_version} on {result.data} ({result.records} records)",
             f"{'task':<12} {'macro-F1':>9} {'accuracy':>9} {'ECE':>7}"]
    for task, metrics in result.tasks.items():
        ece = "" if metrics.calibration_error is None else f"{metrics.calibration_error:.3f}"
        lines.append(f"{task:<12} {metrics.macro_f1:>9.3f} {metrics.accuracy:>9.3f} {ece:>7}")
    if result.documents:
        shares = ", ".join(f"{key} {result.documents[key]:.3f}" for key in (*TASKS, "all"))
        lines.append(f"documents with every record right ({result.documents['documents']}): {shares}")
    return "\n".join(lines)


def markdown_report(result: EvaluationResult) -> str:
    """A Markdown report: summary, per-class scores, confusion matrices, most confused pairs."""
    out = [f"# Evaluation of {result.model} {result.model_version}", "",
           f"Data: `{result.data}`, {result.records} records.", "",
           "| task | macro-F1 | accuracy | calibration error (ECE) |", "|---|---:|---:|---:|"]
    out += [f"| {task} | {m.macro_f1:.3f} | {m.accuracy:.3f} | "
            f"{'' if m.calibration_error is None else f'{m.calibration_error:.3f}'} |"
            for task, m in result.tasks.items()]
    if result.documents:
        out += ["", f"Documents with every record right, of {result.documents['documents']}: "
                + ", ".join(f"{key} {result.documents[key]:.3f}" for key in (*TASKS, "all")) + "."]
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
    from .files import atomic_write_text

    atomic_write_text(path, json.dumps(result.to_dict(), indent=2) + "\n")


def write_report(result: EvaluationResult, path: str | Path) -> None:
    """Write the Markdown report."""
    from .files import atomic_write_text

    atomic_write_text(path, markdown_report(result))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(figure, path: str | Path) -> None:
    from .files import atomic_output

    with atomic_output(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110)
    figure.clf()


def plot_scores(result: EvaluationResult, path: str | Path) -> None:
    """Draw, per task, the distribution of the predicted label's probability for right and
    wrong predictions, and a reliability curve (accuracy per confidence bin), into one PNG."""
    plt = _pyplot()
    figure, axes = plt.subplots(2, len(result.tasks), figsize=(12, 8), squeeze=False)
    bins = np.linspace(0, 1, 11)
    for column, (task, (confidence, correct)) in enumerate(result.confidences.items()):
        histogram = axes[0][column]
        histogram.hist([confidence[correct], confidence[~correct]], bins=bins, stacked=True,
                       label=["right", "wrong"], color=["tab:green", "tab:red"])
        histogram.set_title(f"{task}: probability of the predicted label")
        histogram.set_xlabel("probability")
        histogram.set_ylabel("records")
        histogram.legend()
        which = np.minimum((confidence * 10).astype(int), 9)
        centres = [(bins[b] + bins[b + 1]) / 2 for b in range(10) if (which == b).any()]
        accuracy = [correct[which == b].mean() for b in range(10) if (which == b).any()]
        reliability = axes[1][column]
        reliability.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        reliability.plot(centres, accuracy, marker="o", label="this model")
        reliability.set_title(f"{task}: reliability (ECE {result.tasks[task].calibration_error:.3f})")
        reliability.set_xlabel("probability of the predicted label")
        reliability.set_ylabel("accuracy")
        reliability.legend()
    figure.suptitle(f"{result.model} {result.model_version} on {result.data} ({result.records} records)")
    figure.tight_layout()
    _save_figure(figure, path)
    plt.close(figure)


def plot_confusion(result: EvaluationResult, path: str | Path) -> None:
    """Draw both confusion matrices (row-normalised colours, raw counts) into one PNG."""
    plt = _pyplot()

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
    _save_figure(figure, path)
    plt.close(figure)
