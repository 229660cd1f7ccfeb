"""Evaluation results as text: a summary table for the terminal, a Markdown report and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_write_text
from ..labels import TASKS
from .results import EvaluationResult


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
    atomic_write_text(path, json.dumps(result.to_dict(), indent=2) + "\n")


def write_report(result: EvaluationResult, path: str | Path) -> None:
    """Write the Markdown report."""
    atomic_write_text(path, markdown_report(result))
