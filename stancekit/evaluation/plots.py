"""Evaluation results as pictures: confusion matrices, score distributions and reliability curves (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_output
from ..metrics import CALIBRATION_BINS, reliability
from .results import EvaluationResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(figure, result: EvaluationResult, path: str | Path) -> None:
    """Title the figure with the model and data, and write it to ``path`` as a PNG."""
    figure.suptitle(f"{result.model} {result.model_version} on {result.data} ({result.records} records)")
    figure.tight_layout()
    with atomic_output(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=110)
    _pyplot().close(figure)


def plot_scores(result: EvaluationResult, path: str | Path) -> None:
    """Draw, per task, the distribution of the predicted label's probability for right and
    wrong predictions, and a reliability curve (accuracy per confidence bin), into one PNG."""
    figure, axes = _pyplot().subplots(2, len(result.tasks), figsize=(12, 8), squeeze=False)
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    for column, (task, (confidence, correct)) in enumerate(result.confidences.items()):
        histogram = axes[0][column]
        histogram.hist([confidence[correct], confidence[~correct]], bins=edges, stacked=True,
                       label=["right", "wrong"], color=["tab:green", "tab:red"])
        histogram.set_title(f"{task}: probability of the predicted label")
        histogram.set_xlabel("probability")
        histogram.set_ylabel("records")
        histogram.legend()
        curve = reliability(confidence, correct)
        reliability_axis = axes[1][column]
        reliability_axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        reliability_axis.plot([(edges[b] + edges[b + 1]) / 2 for b, _, _, _ in curve], [right for *_, right in curve],
                              marker="o", label="this model")
        reliability_axis.set_title(f"{task}: reliability (ECE {result.tasks[task].calibration_error:.3f})")
        reliability_axis.set_xlabel("probability of the predicted label")
        reliability_axis.set_ylabel("accuracy")
        reliability_axis.legend()
    _finish(figure, result, path)


def plot_confusion(result: EvaluationResult, path: str | Path) -> None:
    """Draw both confusion matrices (row-normalised colours, raw counts) into one PNG."""
    figure, axes = _pyplot().subplots(1, len(result.tasks), figsize=(15, 6.5),
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
    _finish(figure, result, path)
