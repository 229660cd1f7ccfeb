"""Probabilities from linear scores: softmax, and temperature scaling fitted on held-out data."""

from __future__ import annotations

import numpy as np


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of an ``(n, k)`` array, as float32."""
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The temperature ``T`` that minimises the cross-entropy of ``softmax(logits / T)`` against
    ``targets``, an ``(n, k)`` array of target probabilities (one-hot for labels).

    Dividing by one scalar never changes which label is predicted; it only makes the
    probabilities match how often the predictions are right.
    """
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)

    def log_loss(temperature: float) -> float:
        return float(-(targets * np.log(softmax(logits / temperature) + 1e-12)).sum(axis=1).mean())

    return float(minimize_scalar(log_loss, bounds=(0.05, 20.0), method="bounded").x)
