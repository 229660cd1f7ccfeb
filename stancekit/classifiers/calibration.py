"""Probabilities from linear scores: softmax, and temperature scaling fitted on held-out data."""

from __future__ import annotations

import numpy as np


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of an ``(n, k)`` array, as float32."""
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_temperature(logits: np.ndarray, gold, classes) -> float:
    """The temperature ``T`` that minimises the log-loss of ``softmax(logits / T)`` on ``gold``.

    Dividing by one scalar never changes which label is predicted; it only makes the
    probabilities match how often the predictions are right.
    """
    from scipy.optimize import minimize_scalar

    index = {label: i for i, label in enumerate(classes)}
    logits = np.asarray(logits, dtype=np.float64)
    rows, columns = np.arange(len(gold)), np.array([index[g] for g in gold])

    def log_loss(temperature: float) -> float:
        return float(-np.log(softmax(logits / temperature)[rows, columns] + 1e-12).mean())

    return float(minimize_scalar(log_loss, bounds=(0.05, 20.0), method="bounded").x)
